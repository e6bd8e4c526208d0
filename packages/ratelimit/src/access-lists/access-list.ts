/**
 * Clients an access list names: IPs or CIDR ranges (IPv4 and IPv6) and exact values of other
 * dimensions.
 *
 * @example
 * ```ts
 * const allow: AccessListOptions = { ips: ['10.0.0.0/8', '2001:db8::/32'], apiKeyIds: ['key_monitoring'] };
 * ```
 */
export interface AccessListOptions {
  readonly ips?: readonly string[];
  readonly tenantIds?: readonly string[];
  readonly userIds?: readonly string[];
  readonly apiKeyIds?: readonly string[];
  readonly keys?: readonly string[];
}

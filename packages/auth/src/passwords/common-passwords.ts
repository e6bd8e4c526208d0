/**
 * About 1,400 of the passwords that top every published leak analysis (RockYou, the
 * yearly "worst passwords" lists, the UK NCSC's top 100,000): keyboard walks, number runs,
 * "password" in its disguises, names, sports teams, pets, words of affection. Written out by
 * hand, lowercase, whitespace-separated.
 *
 * The list is short on purpose: `createPasswordPolicy` matches case-insensitively and also
 * with trailing digits and symbols removed, so `monkey` covers `Monkey123!` and `password`
 * covers `Password2024!`; length rules take care of the rest. Applications with a larger
 * corpus (or a k-anonymity breach check) add it through `blocklist` or a check of their own.
 */
const COMMON_PASSWORDS_TEXT = `
123456 123456789 12345678 12345 1234567 1234567890 1234 123123 111111 000000 654321 666666 121212
112233 123321 987654321 11111111 123qwe qwerty qwertyuiop qwerty123 qwe123 asdfgh asdfghjkl zxcvbnm
zxcvbn 1q2w3e4r 1q2w3e4r5t 1q2w3e4r5t6y 1q2w3e 1qaz2wsx 1qaz2wsx3edc qazwsx qazwsxedc qazwsxedcrfv
zaq12wsx zaq1zaq1 zaq1xsw2 !qaz2wsx 1qazxsw2 2wsx3edc q1w2e3r4 q1w2e3r4t5 a1b2c3 a1b2c3d4 abc123
abcd1234 abcdef abcdefg abcdefgh 1a2b3c aaaaaa aaaaaaaa 1111 11111 111111111 1111111111 0000 00000
0000000 00000000 222222 333333 444444 555555 777777 888888 999999 7777777 88888888 12341234
123412341234 123451234 1234512345 123654 123789 147258 147258369 159357 159753 258456 321654 369258
456123 456789 741852963 789456 789456123 963852741 102030 112358 131313 141414 151515 202020 232323
252525 696969 101010 123abc abc12345 a123456 a12345 aa123456 q123456 123456a 123456q 12345a 12345q
1234qwer qwer1234 qwer asdf asdf1234 asdfasdf asd123 zxc123 zxcasd qweasd qweasdzxc qweasdzxc123
1qwerty qwerty1 qwertz qwertzuiop azerty azertyuiop asdfg zxcvb poiuytrewq mnbvcxz lkjhgfdsa
0987654321 09876 qwaszx password passw0rd p@ssw0rd p@ssword pa55word pa55w0rd passwort motdepasse
contrasena senha parola wachtwoord haslo salasana losen adgangskode heslo jelszo sifre parool passwd
pass pass123 password1 passwordpassword mypassword newpassword yourpassword thepassword secret
secret123 letmein letmein1 welcome welcome1 welcome123 changeme changeit default admin admin123
administrator root toor guest user test test123 testing tester demo sample temp temppass temp123
login logon access access14 master masterkey super superuser superman supervisor manager support
system sysadmin webmaster iloveyou iloveu iloveyou1 iloveyouiloveyou loveyou love lovely loveme
lover lovers love123 ilovegod princess princesa prince queen king kingdom god godisgood jesus jesus1
jesuschrist christ christian angel angels angel1 baby babygirl babyboy babe sweet sweetie sweetheart
honey sunshine sunflower flower flowers rose butterfly rainbow beautiful pretty cutie cute friend
friends bestfriend family monkey dragon dragons tiger lion eagle falcon phoenix wolf bear shadow
shadows master1 killer football soccer baseball basketball hockey golf tennis volleyball boxing
racing cricket rugby liverpool chelsea arsenal manchester manutd barcelona realmadrid juventus milan
bayern celtic rangers yankees cowboys steelers lakers packers eagles broncos raiders patriots
dolphins redskins michael jennifer jordan jordan23 michelle ashley jessica daniel charlie thomas
george andrew joshua matthew robert william richard david james john joseph anthony christopher
nicholas justin hunter harley ranger buster tigger charlie1 maggie ginger pepper bailey chester
molly lucky cookie coco max maxwell oliver jack toby buddy rocky sammy sophie daisy bella luna simba
snoopy scooby garfield batman spiderman ironman captain hulk wolverine pokemon pikachu naruto sasuke
goku vegeta starwars skywalker jedi yoda vader matrix neo trinity morpheus zelda mario luigi sonic
minecraft fortnite roblox hello hello123 hello1 hey whatever nothing something anything everything
forever trustno1 freedom liberty peace justice power strong winner victory champion legend hero
computer internet google facebook youtube twitter instagram myspace yahoo hotmail gmail apple
samsung nokia iphone android windows microsoft linux ubuntu mac macintosh dell lenovo sony cheese
chocolate coffee pizza banana orange apple123 cherry strawberry peanut butter pumpkin summer winter
spring autumn january february march april may june july august september october november december
monday tuesday friday sunday weekend holiday christmas easter halloween money money1 dollar dollars
cash rich million billion gold silver diamond diamonds platinum mustang ferrari porsche corvette
camaro bmw mercedes audi toyota honda nissan ford chevy harley1 jaguar viper cobra lamborghini
bugatti subaru mazda jeep dodge tesla yamaha suzuki kawasaki ducati zxcvbnm123 qwerty12 qwerty1234
qwerty123456 asdfgh123 asdf123 qazwsx123 password12 password123 password1234 abc abcabc abcabc123
aaa111 aa1234 a1s2d3f4 q1q1q1 z1x2c3 1a2s3d4f 1z2x3c4v zaqxsw xsw2zaq1 mko0nji9 nji9mko0 1qa2ws3ed
123qweasd 123qweasdzxc 123qwe123 qwe123qwe qweqwe asdasd zxczxc 123asd 123zxc asd asdzxc qwe
qweasd123 112233445566 123123123 123321123 456456 789789 987654 9876543210 1122334455 1357924680
13579 135790 246810 2468 24682468 01234567 0123456789 iloveyou2 iloveyou123 hellokitty kitty kitten
kitkat catcat cat dog doggy doggie puppy puppies horse horses pony unicorn dolphin turtle panda
penguin rabbit bunny hamster parrot fish goldfish shark whale octopus spider snake python java
javascript coder hacker hack hacked h4ck3r 1337 leet elite l33t pass1234 passpass pass1 pass12
passw0rd1 p4ssw0rd p455w0rd pa$$word pa$$w0rd qwerty! password! p@$$w0rd adm1n admin1 admin12
admin1234 administrator1 root123 rootroot r00t toor123 guest123 user123 user1 username test1 test12
test1234 testtest demo123 qatest changeme1 changeme123 letmein123 welcome12 welcome1234 secret1
secret12 topsecret confidential private public open opensesame sesame abracadabra alohomora magic
magician wizard merlin gandalf frodo hobbit sauron mordor hogwarts potter harrypotter hermione
dumbledore voldemort slytherin gryffindor thelordoftherings lordoftherings startrek enterprise spock
kirk picard stargate nirvana metallica slipknot linkinpark eminem beatles elvis madonna britney
beyonce rihanna justinbieber onedirection bts blackpink taylorswift michaeljackson jackson tupac
biggie ronaldo messi neymar beckham zidane pele maradona jordan1 kobe lebron curry tiger1 tigerwoods
america usa canada mexico brazil england london paris france germany berlin italy roma spain madrid
russia moscow china beijing japan tokyo india delhi australia sydney africa europe newyork
california texas florida chicago boston dallas houston miami vegas lasvegas hollywood scotland
ireland dublin wales poland warsaw holland amsterdam sweden norway denmark finland qwerty7 qwerty11
asdfghjk asdfghj qwertyu qwertyui zxcvbnm1 zxcvbn1 q1w2e3 qwe321 ewq321 321qwe dbrnjhbz 1qaz@wsx
1q2w3e4r! q1w2e3r4! zaq!2wsx !qaz@wsx #edc4rfv 3edc4rfv 4rfv5tgb 5tgb6yhn asdfjkl asdfjkl; ;lkjasdf
qwertyuiop[] qwertyuiopasdfghjkl qwertyuiopasdfghjklzxcvbnm abcdefghijk abcdefghijkl
abcdefghijklmnopqrstuvwxyz alphabet abcdef123 abcdefg123 abcdefgh123 monkey1 monkey123 dragon1
dragon123 shadow1 shadow123 master123 killer1 killer123 sunshine1 princess1 football1 baseball1
soccer1 superman1 batman1 michael1 jennifer1 jordan123 ashley1 hunter1 hunter2 hunter123 ranger1
buster1 tigger1 maggie1 ginger1 pepper1 bailey1 charlie123 starwars1 pokemon1 naruto1 computer1
internet1 freedom1 whatever1 forever1 trustno12 letmeinnow fuckyou fuckoff fuck fuckme fucker
fucking motherfucker shit bitch bitches asshole bastard dick dickhead cock pussy sex sexy sexygirl
sexy123 hot hottie playboy playgirl ass butt booty damn hell satan lucifer devil demon 666 evil
death dead zombie ghost vampire dracula darkness darkside blackcat blue red green yellow purple pink
black white orange1 brown gray grey silver1 golden blue123 red123 green123 black123 purple1 pink123
bluebird blackbird redbird bluesky password2 password3 password7 password9 password11 password12!
passw0rd! password01 p@ssw0rd1 p@ssw0rd123 p@ssword1 p@ssword123 passw0rd123 pa$$w0rd1 pass@123
pass@word1 passw@rd admin@123 admin! admin!@# root! qwerty!@# qwe!@# !@#$%^ !@#$%^&* !@#$%^&*()
!@#$% !@#$ 1234!@#$ !@#123 123!@# 1q2w3e! 123!@#qwe qwe!@#123 !q@w#e$r 1!2@3#4$ a!b@c# qwerty12345
1234567a 12345678a 123456789a a1234567 a12345678 abc1234 abcd123 abcd12345 welcome2 welcome01
summer1 summer123 summer2020 summer2021 summer2022 summer2023 summer2024 winter1 winter123 spring1
autumn1 fall2020 january1 monday1 friday1 sunday1 iloveme iloveher ilovehim ilovemymom ilovemydad
mommy mom mother father dad daddy papa mama grandma grandpa sister brother son daughter wife husband
girlfriend boyfriend family1 home house garden river ocean sea beach island mountain forest desert
sky moon star stars sun sunny cloud clouds rain storm thunder lightning snow snowball snowflake ice
fire water earth wind nature planet galaxy universe space rocket astronaut alien aliens ufo robot
cyborg android1 secure security safety protect protected shield guardian defender warrior soldier
army navy marine marines airforce pilot captain1 sergeant general major colonel commander ninja
samurai sniper assassin hitman gangster thug pimp boss bigboss bossman bigdaddy bigdog topdog
underdog chicken turkey bacon burger hamburger hotdog sausage steak cookies cake cupcake pie candy
sugar honey1 vanilla caramel muffin donut pancake waffle popcorn pepsi cocacola sprite fanta redbull
beer vodka whiskey tequila wine martini jackdaniels smirnoff budweiser heineken guinness marijuana
weed ganja420 420420 blunt stoner highlife school college student teacher university education
science physics chemistry biology math maths history english spanish french german music guitar
piano drums singer dance dancer dancing movie movies film cinema theater camera photo picture art
artist painter design designer creative create imagine dream dreams dreamer believe faith hope grace
mercy blessed blessing blessed1 praise amen hallelujah heaven paradise eden adam eve moses abraham
david1 genesis exodus bible church holy spirit soul lord saviour savior jesuslovesme godbless
qwerty123! password1! welcome1! admin123! abc123! iloveyou! monkey! dragon! letmein! 12qwaszx
12qw12qw 1234qwerasdf 1234qwerasdfzxcv qwerasdf qwerasdfzxcv asdfqwer zxcvasdf 123456789q 123456789z
1234567890q qwerty1234567890 1q2w3e4r5t6y7u8i9o0p 1234567891 12345678910 123456789123 1234567899
0123456 01234 012345 0123456789a 11223344 111222 111222333 121314 123654789 147852 147852369 159951
159632 321321 3216549870 5201314 520520 woaini woaini1314 iloveyou520 aini1314 1314520 qwertyuiop1
poiuytrewq1 ytrewq trewq rewq mnbvcx lkjhgf gfdsa hjkl vbnm fghj tyui rtyu wert mememe meme yoyo
yoyoyo lolol lol lolol123 lmao rofl haha hahaha hehe hehehe kiss kisses hugs xoxo xoxoxo smile
smiles happy happy1 happy123 happiness joy joyful fun funny crazy crazy1 awesome cool cool123
coolguy coolcat nice good goodluck great best bestie amazing perfect special unique different simple
easy hard difficult impossible possible nobody somebody anybody everybody yes maybe okay please
thankyou thanks sorry excuse pardon asdfghjkl1 asdfghjkl123 zxcvbnm12 q1w2e3r4t5y6 1qaz2wsx3edc4rfv
1q2w3e4r5t6y7u 123qweasdzxc! qwertyqwerty 123qwe!@# qweasd!@# asdasdasd qweqweqwe zxczxczxc
abcabcabc xyz xyz123 xyzxyz football123 baseball123 soccer123 hockey1 hockey123 basketball1 tennis1
golf123 golfer golfing fishing hunting camping hiking running runner swimming swimmer cycling biker
rider skate skater skateboard surfer surfing snowboard skiing climber gamer gaming player player1
playstation xbox xbox360 nintendo wii gameboy sega atari steam valve halo callofduty warcraft
worldofwarcraft diablo starcraft counterstrike overwatch league leagueoflegends dota dota2 fifa pubg
apex valorant csgo gta grandtheftauto skyrim fallout zelda1 metroid kirby yoshi bowser peach daisy1
toad link ganon samus megaman pacman tetris doom quake unreal
123456789012 1234567890123 12345678901234 123456123456 123123123123 098765432109 987654321098
`;

const commonPasswords: ReadonlySet<string> = new Set(COMMON_PASSWORDS_TEXT.split(/\s+/).filter((word) => word.length > 0));

/**
 * Whether `candidate` (already lowercased) is one of the built-in common passwords.
 *
 * @example
 * ```ts
 * isBuiltInCommonPassword('qwerty123'); // true
 * isBuiltInCommonPassword('vivid-otter-parade'); // false
 * ```
 */
export function isBuiltInCommonPassword(candidate: string): boolean {
  return commonPasswords.has(candidate);
}


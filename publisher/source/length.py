"""A status's length as Mastodon counts it (app/validators/status_length_validator.rb).

Mastodon strips both fields, finds URLs with twitter-text's extractor (plus its own overrides in
config/initializers/twitter_regex.rb) and mentions with Account::MENTION_RE, replaces each URL
with a fixed-size placeholder and each mention with its local part, then counts extended
grapheme clusters of spoiler_text + text.
"""

from __future__ import annotations

import functools
import re
import stringprep
import threading
from collections.abc import Iterator

import grapheme
import regex

__all__ = ["status_length"]

_RUBY_STRIP = "\0\t\n\v\f\r "  # what Ruby's String#strip removes (Status#prepare_contents)
_MAX_URL_LENGTH = 4096  # twitter-text's Extractor::MAX_URL_LENGTH
_MAX_DOMAIN_LENGTH = 253  # Mastodon's Extractor::MAX_DOMAIN_LENGTH, for mentions


def status_length(text: str, spoiler_text: str = "", *, url_length: int = 23) -> int:
    """Characters Mastodon charges for a status against its limit (500 by default)."""
    body = _countable_text(text.strip(_RUBY_STRIP), "x" * url_length)
    return _grapheme_count(spoiler_text.strip(_RUBY_STRIP) + body)


def _grapheme_count(text: str) -> int:
    if _ONE_CODE_POINT_CLUSTERS.fullmatch(text):  # no combining marks, joiners, emoji, Hangul jamo...
        return len(text) - text.count("\r\n")  # ...so every code point is a cluster, but CR LF is one
    return grapheme.length(text)


def _countable_text(text: str, url_placeholder: str) -> str:
    if _BLANK.fullmatch(text):  # Rails' String#blank?
        return ""
    spans = [*_url_spans(text, url_placeholder), *_mention_spans(text)]
    pieces, last = [], 0
    for start, end, replacement in _without_overlaps(spans):
        pieces += [text[last:start], replacement]
        last = end
    return "".join(pieces) + text[last:]


def _without_overlaps(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    kept: list[tuple[int, int, str]] = []
    for span in sorted(spans, key=lambda s: s[0]):
        if not kept or kept[-1][1] <= span[0]:
            kept.append(span)
    return kept


def _word_matches(text: str, start: int, end: int) -> Iterator[regex.Match[str]]:
    return _url_pattern().finditer(text, max(start - 1, 0), end)


def _found_urls(text: str) -> Iterator[tuple[int, str, str | None, str]]:
    """Start, URL, scheme and domain of each match of the URL pattern in the words that hold "://", the same
    as scanning the whole text: no part of a URL can hold ASCII whitespace, so a match stays within one word
    (and the character before it), and a word without "://" holds no URL with a scheme. Many times faster
    on long posts; a word that is one plain URL skips the pattern too."""
    for start, end in _scheme_words(text):
        if simple := _simple_url(text, start, end):
            yield start, *simple
            continue
        for match in _word_matches(text, start, end):
            yield match.start("url"), match["url"], match["scheme"], match["domain"]


def _simple_url(text: str, start: int, end: int) -> tuple[str, str, str] | None:
    """URL, scheme and domain when the word is all one plain URL (http(s), ASCII host ending in a known
    top-level domain, path of letters, digits and / _ -): the URL pattern matches exactly the whole word
    then, and this is many times faster than running it."""
    match = _SIMPLE_URL.fullmatch(text, start, end)
    if match is None or match["tld"].lower() not in _known_tlds():
        return None
    return match[0], match["scheme"], match["domain"]


def _scheme_words(text: str) -> Iterator[tuple[int, int]]:
    """Start and end of each word (a run of anything but ASCII whitespace) that holds "://"."""
    end = 0
    while (found := text.find("://", end)) >= 0:
        before, after = _SPACE_BEFORE.search(text, end, found), _SPACE.search(text, found)
        start, end = (before.end() if before else 0), (after.start() if after else len(text))
        yield start, end


def _url_spans(text: str, placeholder: str) -> Iterator[tuple[int, int, str]]:
    for start, url, scheme, domain in _found_urls(text):
        # Mastodon asks for URLs with a scheme only; scheme-less matches are consumed but skipped.
        if not scheme:
            continue
        if tco := _TCO.match(url):
            if len(tco[1]) > 40:
                continue
            url = tco[0]
        if _domain_is_valid(url, domain):
            yield start, start + len(url), placeholder


def _domain_is_valid(url: str, domain: str) -> bool:
    """twitter-text's is_valid_domain: IDNA ToASCII must succeed and the URL stay short enough."""
    longer_by = _idna_longer_by(domain)
    return longer_by is not None and len(url) + longer_by <= _MAX_URL_LENGTH


@functools.lru_cache(maxsize=1024)  # a repository's posts link to the same few hosts over and over
def _idna_longer_by(domain: str) -> int | None:
    """How much longer IDNA ToASCII makes the domain (at least 0); None when it refuses it."""
    try:
        ascii_length = len(domain.encode("idna"))
    except UnicodeError:
        return None
    # libidn, without IDNA_ALLOW_UNASSIGNED, refuses code points unassigned in Unicode 3.2.
    if any(stringprep.in_table_a1(char) for char in domain):
        return None
    return max(0, ascii_length - len(domain))


def _mention_spans(text: str) -> Iterator[tuple[int, int, str]]:
    for match in _MENTION.finditer(text):
        if _END_MENTION.match(text, match.end()):
            continue
        local, _, domain = match[1].partition("@")
        if len(domain) <= _MAX_DOMAIN_LENGTH:
            yield match.start(), match.end(), "@" + local


def _balanced_parens(chars: str) -> str:
    """Up to two levels of balanced parentheses inside a URL path, e.g. /wiki/Foo_(bar)."""
    return rf"\((?:{chars}+|{chars}*\({chars}+\){chars}*)\)"


_DIRECTIONAL = r"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_INVALID = r"\ufffe\ufeff\uffff"
_SPACES = r"\t-\r \x85\xa0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_PUNCTUATION = r"!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~"
_LATIN_ACCENTS = (
    r"\xc0-\xd6\xd8-\xf6\xf8-\xff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259\u025b\u0263"
    r"\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff"
)
_UCSCHARS = (  # RFC 3987 ucschar + iprivate, allowed in Mastodon's query strings
    r"\xa0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef\U00010000-\U0001fffd\U00020000-\U0002fffd"
    r"\U00030000-\U0003fffd\U00040000-\U0004fffd\U00050000-\U0005fffd\U00060000-\U0006fffd"
    r"\U00070000-\U0007fffd\U00080000-\U0008fffd\U00090000-\U0009fffd\U000a0000-\U000afffd"
    r"\U000b0000-\U000bfffd\U000c0000-\U000cfffd\U000d0000-\U000dfffd\U000e1000-\U000efffd"
    r"\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
)


def _domain_pattern() -> str:
    label = rf"[^{_DIRECTIONAL}{_PUNCTUATION}\x00-\x20\x7f{_SPACES}{_INVALID}]"
    tld_end = r"(?=[^0-9a-z@+-]|$)"
    generic, country = "|".join(_GENERIC_TLDS), "|".join(_COUNTRY_TLDS)
    tld = rf"(?:(?:{generic}){tld_end}|(?:{country}){tld_end}|xn--[0-9a-z]+)"
    subdomain = rf"(?:(?:{label}(?:[_-]|{label})*)?{label}\.)"
    return rf"{subdomain}*(?:{label}(?:-|{label})*)?{label}\.{tld}"


def _path_pattern() -> str:
    char = r"[^\p{White_Space}<>()?]"
    # Mastodon's override of the ending chars embeds twitter-text's original, narrower parens rule.
    old_char = rf"[a-z\p{{Script=Cyrillic}}0-9!*';:=+,.$/%#\[\]\p{{Pd}}_~&|@{_LATIN_ACCENTS}]"
    end = rf"(?:[^\p{{White_Space}}()?!*\"'「」<>;:=,.$%\[\]~&|@]|{_balanced_parens(old_char)})"
    segment = rf"(?:{char}*(?:{_balanced_parens(char)}{char}*)*{end}|{char}+/)"
    return rf"(?:/{segment}*)?"


_URL_PATTERN_LOCK = threading.Lock()


def compile_url_pattern_in_background() -> None:
    """Start compiling the URL pattern (about 0.1 s of CPU) on a thread, to overlap a wait on the network."""
    threading.Thread(target=_url_pattern, name="url-pattern", daemon=True).start()


def _url_pattern() -> regex.Pattern[str]:
    with _URL_PATTERN_LOCK:  # compiled once, also when a background thread is on it
        return _compiled_url_pattern()


@functools.cache  # compiling the TLD alternation takes ~0.1 s: only pay it when counting
def _compiled_url_pattern() -> regex.Pattern[str]:
    preceding = rf"(?:[^A-Z0-9@＠$#＃{_INVALID}]|[{_DIRECTIONAL}]|^)"
    scheme = r"(?:https?|dat|dweb|ipfs|ipns|ssb|gopher|gemini)://"
    query = rf"\?[a-z0-9!?*'();:&=+$/%#\[\]\-_.,~|@^{_UCSCHARS}]*[a-z0-9_&=#/\-{_UCSCHARS}]"
    url = rf"(?P<scheme>{scheme})?(?P<domain>{_domain_pattern()})(?::[0-9]+)?{_path_pattern()}(?:{query})?"
    return regex.compile(rf"{preceding}(?P<url>{url})", regex.IGNORECASE | regex.MULTILINE)


@functools.cache
def _known_tlds() -> frozenset[str]:
    return frozenset(_GENERIC_TLDS + _COUNTRY_TLDS)


_WORD = r"\p{L}\p{M}\p{Nd}\p{Pc}"  # Ruby's [[:word:]]
_MENTION = regex.compile(
    rf"(?<![=/{_WORD}])@((?i:[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@[{_WORD}]+(?:[.-]+[{_WORD}]+)*)?)"
)
_END_MENTION = regex.compile(rf"[@＠]|[{_LATIN_ACCENTS}]|://", regex.IGNORECASE)
_TCO = regex.compile(r"https?://t\.co/([a-z0-9]+)", regex.IGNORECASE)
_SIMPLE_URL = re.compile(  # ASCII only, no IGNORECASE: that would let in "ſ" and the Kelvin sign
    r"(?P<scheme>https?://)(?P<domain>(?:[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\.)+(?P<tld>[A-Za-z]+))(?:/[A-Za-z0-9/_-]*)?"
)
_BLANK = regex.compile(r"\p{White_Space}*")
_SPACE = regex.compile(r"[\t\n\v\f\r ]")
_SPACE_BEFORE = regex.compile(r"[\t\n\v\f\r ]", regex.REVERSE)
# ASCII, Latin-1, Latin Extended-A/B, general punctuation and currency signs: each code point is a
# grapheme cluster of its own (Grapheme_Cluster_Break Other or Control), except CR LF.
_ONE_CODE_POINT_CLUSTERS = regex.compile(r"[\x00-\u024f\u2010-\u2027\u2030-\u205e\u20a0-\u20c0]*")

# twitter-text 3.1's TLD list (conformance/tld_lib.yml), in its order, which Mastodon's regex uses:
# a domain only makes a URL when it ends in one of these.
_GENERIC_TLDS = """
삼성 닷컴 닷넷 香格里拉 餐厅 食品 飞利浦 電訊盈科 集团 通販 购物 谷歌 诺基亚 联通 网络 网站 网店
网址 组织机构 移动 珠宝 点看 游戏 淡马锡 机构 書籍 时尚 新闻 政府 政务 招聘 手表 手机 我爱你 慈善
微博 广东 工行 家電 娱乐 天主教 大拿 大众汽车 在线 嘉里大酒店 嘉里 商标 商店 商城 公益 公司 八卦
健康 信息 佛山 企业 中文网 中信 世界 ポイント ファッション セール ストア コム グーグル クラウド
みんな คอม संगठन नेट कॉम همراه موقع موبايلي كوم كاثوليك عرب شبكة بيتك بازار العليان ارامكو اتصالات
ابوظبي קום сайт рус орг онлайн москва ком католик дети zuerich zone zippo zip zero zara zappos yun
youtube you yokohama yoga yodobashi yandex yamaxun yahoo yachts xyz xxx xperia xin xihuan xfinity
xerox xbox wtf wtc wow world works work woodside wolterskluwer wme winners wine windows win
williamhill wiki wien whoswho weir weibo wedding wed website weber webcam weatherchannel weather
watches watch warman wanggou wang walter walmart wales vuelos voyage voto voting vote volvo
volkswagen vodka vlaanderen vivo viva vistaprint vista vision visa virgin vip vin villas viking vig
video viajes vet versicherung vermögensberatung vermögensberater verisign ventures vegas vanguard
vana vacations ups uol uno university unicom uconnect ubs ubank tvs tushu tunes tui tube trv trust
travelersinsurance travelers travelchannel travel training trading trade toys toyota town tours
total toshiba toray top tools tokyo today tmall tkmaxx tjx tjmaxx tirol tires tips tiffany tienda
tickets tiaa theatre theater thd teva tennis temasek telefonica telecity tel technology tech team
tdk tci taxi tax tattoo tatar tatamotors target taobao talk taipei tab systems symantec sydney swiss
swiftcover swatch suzuki surgery surf support supply supplies sucks style study studio stream store
storage stockholm stcgroup stc statoil statefarm statebank starhub star staples stada srt srl
spreadbetting spot sport spiegel space soy sony song solutions solar sohu software softbank social
soccer sncf smile smart sling skype sky skin ski site singles sina silk shriram showtime show shouji
shopping shop shoes shiksha shia shell shaw sharp shangrila sfr sexy sex sew seven ses services
sener select seek security secure seat search scot scor scjohnson science schwarz schule school
scholarships schmidt schaeffler scb sca sbs sbi saxo save sas sarl sapo sap sanofi sandvikcoromant
sandvik samsung samsclub salon sale sakura safety safe saarland ryukyu rwe run ruhr rugby rsvp room
rogers rodeo rocks rocher rmit rip rio ril rightathome ricoh richardli rich rexroth reviews review
restaurant rest republican report repair rentals rent ren reliance reit reisen reise rehab
redumbrella redstone red recipes realty realtor realestate read raid radio racing qvc quest quebec
qpon pwc pub prudential pru protection property properties promo progressive prof productions prod
pro prime press praxi pramerica post porn politie poker pohl pnc plus plumbing playstation play
place pizza pioneer pink ping pin pid pictures pictet pics piaget physio photos photography photo
phone philips phd pharmacy pfizer pet pccw pay passagens party parts partners pars paris panerai
panasonic pamperedchef page ovh ott otsuka osaka origins orientexpress organic org orange oracle
open ooo onyourside online onl ong one omega ollo oldnavy olayangroup olayan okinawa office off
observer obi nyc ntt nrw nra nowtv nowruz now norton northwesternmutual nokia nissay nissan ninja
nikon nike nico nhk ngo nfl nexus nextdirect next news newholland new neustar network netflix
netbank net nec nba navy natura nationwide name nagoya nadex nab mutuelle mutual museum mtr mtpc mtn
msd movistar movie mov motorcycles moto moscow mortgage mormon mopar montblanc monster money monash
mom moi moe moda mobily mobile mobi mma mls mlb mitsubishi mit mint mini mil microsoft miami metlife
merckmsd meo menu men memorial meme melbourne meet media med mckinsey mcdonalds mcd mba mattel
maserati marshalls marriott markets marketing market map mango management man makeup maison maif
madrid macys luxury luxe lupin lundbeck ltda ltd lplfinancial lpl love lotto lotte london lol loft
locus locker loans loan llp llc lixil living live lipsy link linde lincoln limo limited lilly like
lighting lifestyle lifeinsurance life lidl liaison lgbt lexus lego legal lefrak leclerc lease lds
lawyer law latrobe latino lat lasalle lanxess landrover land lancome lancia lancaster lamer
lamborghini ladbrokes lacaixa kyoto kuokgroup kred krd kpn kpmg kosher komatsu koeln kiwi kitchen
kindle kinder kim kia kfh kerryproperties kerrylogistics kerryhotels kddi kaufen juniper juegos jprs
jpmorgan joy jot joburg jobs jnj jmp jll jlc jio jewelry jetzt jeep jcp jcb java jaguar iwc iveco
itv itau istanbul ist ismaili iselect irish ipiranga investments intuit international intel int
insure insurance institute ink ing info infiniti industries inc immobilien immo imdb imamat ikano
iinet ifm ieee icu ice icbc ibm hyundai hyatt hughes htc hsbc how house hotmail hotels hoteles hot
hosting host hospital horse honeywell honda homesense homes homegoods homedepot holiday holdings
hockey hkt hiv hitachi hisamitsu hiphop hgtv hermes here helsinki help healthcare health hdfcbank
hdfc hbo haus hangout hamburg hair guru guitars guide guge gucci guardian group grocery gripe green
gratis graphics grainger gov got gop google goog goodyear goodhands goo golf goldpoint gold godaddy
gmx gmo gmbh gmail globo global gle glass glade giving gives gifts gift ggee george genting gent gea
gdn gbiz gay garden gap games game gallup gallo gallery gal fyi futbol furniture fund fun fujixerox
fujitsu ftr frontier frontdoor frogans frl fresenius free fox foundation forum forsale forex ford
football foodnetwork food foo fly flsmidth flowers florist flir flights flickr fitness fit fishing
fish firmdale firestone fire financial finance final film fido fidelity fiat ferrero ferrari
feedback fedex fast fashion farmers farm fans fan family faith fairwinds fail fage extraspace
express exposed expert exchange everbank events eus eurovision etisalat esurance estate esq erni
ericsson equipment epson epost enterprises engineering engineer energy emerck email education edu
edeka eco eat earth dvr dvag durban dupont duns dunlop duck dubai dtv drive download dot doosan
domains doha dog dodge doctor docs dnp diy dish discover discount directory direct digital diet
diamonds dhl dev design desi dentist dental democrat delta deloitte dell delivery degree deals
dealer deal dds dclk day datsun dating date data dance dad dabur cyou cymru cuisinella csc cruises
cruise crs crown cricket creditunion creditcard credit cpa courses coupons coupon country corsica
coop cool cookingchannel cooking contractors contact consulting construction condos comsec computer
compare company community commbank comcast com cologne college coffee codes coach clubmed club cloud
clothing clinique clinic click cleaning claims cityeats city citic citi citadel cisco circle
cipriani church chrysler chrome christmas chloe chintai cheap chat chase charity channel chanel cfd
cfa cern ceo center ceb cbs cbre cbn cba catholic catering cat casino cash caseih case casa cartier
cars careers career care cards caravan car capitalone capital capetown canon cancerresearch camp
camera cam calvinklein call cal cafe cab bzh buzz buy business builders build bugatti budapest
brussels brother broker broadway bridgestone bradesco box boutique bot boston bostik bosch boots
booking book boo bond bom bofa boehringer boats bnpparibas bnl bmw bms blue bloomberg blog
blockbuster blanco blackfriday black biz bio bingo bing bike bid bible bharti bet bestbuy best
berlin bentley beer beauty beats bcn bcg bbva bbt bbc bayern bauhaus basketball baseball bargains
barefoot barclays barclaycard barcelona bar bank band bananarepublic banamex baidu baby azure axa
aws avianca autos auto author auspost audio audible audi auction attorney athleta associates asia
asda arte art arpa army archi aramco arab aquarelle apple app apartments aol anz anquan android
analytics amsterdam amica amfam amex americanfamily americanexpress alstom alsace ally allstate
allfinanz alipay alibaba alfaromeo akdn airtel airforce airbus aigo aig agency agakhan africa afl
afamilycompany aetna aero aeg adult ads adac actor active aco accountants accountant accenture
academy abudhabi abogado able abc abbvie abbott abb abarth aarp aaa onion
""".split()

_COUNTRY_TLDS = """
한국 香港 澳門 新加坡 台灣 台湾 中國 中国 გე ລາວ ไทย ලංකා ഭാരതം ಭಾರತ భారత్ சிங்கப்பூர் இலங்கை இந்தியா ଭାରତ
ભારત ਭਾਰਤ ভাৰত ভারত বাংলা भारोत भारतम् भारत ڀارت پاکستان موريتانيا مليسيا مصر قطر فلسطين عمان عراق
سورية سودان تونس بھارت بارت ایران امارات المغرب السعودية الجزائر البحرين الاردن հայ қаз укр срб рф
мон мкд ею бел бг ευ ελ zw zm za yt ye ws wf vu vn vi vg ve vc va uz uy us um uk ug ua tz tw tv tt
tr tp to tn tm tl tk tj th tg tf td tc sz sy sx sv su st ss sr so sn sm sl sk sj si sh sg se sd sc
sb sa rw ru rs ro re qa py pw pt ps pr pn pm pl pk ph pg pf pe pa om nz nu nr np no nl ni ng nf ne
nc na mz my mx mw mv mu mt ms mr mq mp mo mn mm ml mk mh mg mf me md mc ma ly lv lu lt ls lr lk li
lc lb la kz ky kw kr kp kn km ki kh kg ke jp jo jm je it is ir iq io in im il ie id hu ht hr hn hm
hk gy gw gu gt gs gr gq gp gn gm gl gi gh gg gf ge gd gb ga fr fo fm fk fj fi eu et es er eh eg ee
ec dz do dm dk dj de cz cy cx cw cv cu cr co cn cm cl ck ci ch cg cf cd cc ca bz by bw bv bt bs br
bq bo bn bm bl bj bi bh bg bf be bd bb ba az ax aw au at as ar aq ao an am al ai ag af ae ad ac
""".split()

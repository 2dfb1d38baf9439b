"""Write tests/fixtures/stories/*.xml (RSS 2.0, one feed per outlet), labels.json and
sources.toml: the fixture feeds of tests/test_stories.py. Run from the repository root."""
import json
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

OUT = "tests/fixtures/stories"
OUTLETS = {
  "mod": ("防衛省・自衛隊", "ja", "https://www.mod.example.jp"),
  "jdef": ("Jディフェンスニュース", "ja", "https://jdef.example.jp"),
  "kyodo": ("Kyodo Wire", "en", "https://kyodo.example.com"),
  "navalnews": ("Naval Notes", "en", "https://navalnotes.example.com"),
  "xinhua": ("新华军事", "zh", "https://mil.xinhua.example.cn"),
  "rid": ("Rivista Difesa", "it", "https://rivistadifesa.example.it"),
  "poder": ("Poder Naval BR", "pt", "https://podernaval.example.br"),
}
A = [
 # event, outlet, published, slug, title, description
 ("y9", "mod", "2024-08-26T18:00+09:00", "y9", "中国機による領空侵犯について", "令和6年8月26日(月)11時29分頃から11時31分頃にかけて、中国軍のY-9情報収集機1機が長崎県男女群島沖の領空を侵犯しました。航空自衛隊の戦闘機を緊急発進させました。"),
 ("y9", "jdef", "2024-08-29T09:00+09:00", "y9", "中国軍Y-9が男女群島沖で領空侵犯 空自が緊急発進(8月26日)", "防衛省によると、8月26日午前11時29分頃、中国軍のY-9情報収集機が長崎県男女群島沖で領空を侵犯した。"),
 ("y9", "kyodo", "2024-08-26T20:00+09:00", "y9", "Chinese military plane violates Japan's airspace for first time", "A Chinese Y-9 surveillance aircraft violated Japanese airspace off the Danjo Islands in Nagasaki Prefecture on Monday from 11:29 a.m. to 11:31 a.m., the Defense Ministry said."),
 ("y9", "xinhua", "2024-08-27T10:00+08:00", "y9", "日本称中国军机侵犯领空 中方回应", "日本防卫省称，8月26日一架中国Y-9侦察机进入长崎县男女群岛附近领空，中方表示无意侵犯任何国家领空。"),
 ("y9", "rid", "2024-08-27T09:30+02:00", "y9", "Un Y-9 cinese viola lo spazio aereo giapponese", "Il 26 agosto un aereo da ricognizione Y-9 della Cina ha violato lo spazio aereo del Giappone vicino alle isole Danjo; Tokyo ha fatto decollare i caccia."),
 ("budget", "mod", "2024-08-30T17:00+09:00", "budget", "令和7年度概算要求の概要", "防衛省は令和6年8月30日、令和7年度予算の概算要求として過去最大の8兆5389億円を要求しました。"),
 ("budget", "kyodo", "2024-08-30T19:00+09:00", "budget", "Japan's Defense Ministry seeks record ¥8.54 trillion budget", "The Defense Ministry on Friday requested a record 8.54 trillion yen for fiscal 2025, including funds for stand-off missiles."),
 ("budget", "poder", "2024-08-31T08:00-03:00", "budget", "Japão pede orçamento de defesa recorde de 8,54 trilhões de ienes", "O Ministério da Defesa do Japão solicitou em 30 de agosto um orçamento recorde de 8,54 trilhões de ienes para o ano fiscal de 2025."),
 ("liaoning", "mod", "2024-09-18T19:00+09:00", "liaoning", "中国海軍艦艇の動向について", "令和6年9月18日(水)、中国海軍の空母「遼寧」ほか駆逐艦2隻が与那国島と西表島の間の海域を南下しました。"),
 ("liaoning", "jdef", "2024-09-21T09:00+09:00", "liaoning", "中国空母「遼寧」が与那国島と西表島の間を初めて航行", "統合幕僚監部の発表によると、中国海軍の空母「遼寧」と駆逐艦2隻が与那国島と西表島の間を航行した。"),
 ("liaoning", "kyodo", "2024-09-18T21:00+09:00", "liaoning", "Chinese carrier Liaoning sails between Japan's Yonaguni and Iriomote islands", "The Liaoning aircraft carrier and two destroyers sailed between Yonaguni and Iriomote islands on Wednesday, the first such passage by a Chinese carrier, the ministry said."),
 ("liaoning", "xinhua", "2024-09-19T09:00+08:00", "liaoning", "辽宁舰编队赴西太平洋开展训练", "9月18日，中国海军辽宁舰航母编队经与那国岛与西表岛之间海域进入西太平洋。"),
 ("liaoning", "navalnews", "2024-09-19T03:00+00:00", "liaoning", "PLAN carrier Liaoning transits between Yonaguni and Iriomote", "Japan's Joint Staff said the carrier Liaoning passed between the two islands on 18 September with two destroyers."),
 ("sh60", "mod", "2024-04-21T02:00+09:00", "sh60", "海上自衛隊SH-60K哨戒ヘリコプター2機の事故について", "令和6年4月20日(土)22時38分頃、伊豆諸島鳥島東方の海域で夜間訓練中のSH-60K2機が消息を絶ちました。乗員8名の捜索を行っています。"),
 ("sh60", "kyodo", "2024-04-21T09:00+09:00", "sh60", "Two MSDF SH-60K helicopters crash in Pacific off Torishima", "Two Maritime Self-Defense Force SH-60K patrol helicopters with eight crew aboard crashed late Saturday near Torishima island during night training, Defense Minister Kihara said."),
 ("sh60", "rid", "2024-04-21T10:00+02:00", "sh60", "Precipitati due elicotteri SH-60K giapponesi nel Pacifico", "Due elicotteri SH-60K della Marina giapponese sono precipitati il 20 aprile vicino all'isola di Torishima durante un addestramento notturno."),
 ("sh60-dead", "kyodo", "2024-04-21T15:00+09:00", "sh60-dead", "Crew member rescued after MSDF helicopter crash confirmed dead", "One of the eight crew of the SH-60K helicopters that crashed near Torishima on Saturday was confirmed dead, Defense Minister Kihara said."),
 ("sh60-recorder", "mod", "2024-04-22T18:00+09:00", "sh60-recorder", "SH-60K事故 フライトレコーダーを発見", "令和6年4月22日(月)、鳥島東方の海域でSH-60Kのフライトレコーダーを発見しました。"),
 ("sh60-recorder", "kyodo", "2024-04-22T20:00+09:00", "sh60-recorder", "Flight recorder of crashed MSDF helicopter found", "The flight data recorder of one of the two SH-60K helicopters that crashed near Torishima was found on Monday, the Defense Ministry said."),
 ("presser-0910", "mod", "2024-09-10T15:00+09:00", "presser-0910", "防衛大臣記者会見(令和6年9月10日)", "木原防衛大臣は9月10日の閣議後会見で、南西諸島の防衛体制の強化について述べました。"),
 ("presser-0910", "kyodo", "2024-09-10T16:00+09:00", "presser-0910", "Kihara vows to bolster defense of southwestern islands", "Defense Minister Kihara told a press conference on Tuesday that Japan will strengthen the defense of its southwestern islands."),
 ("presser-0913", "mod", "2024-09-13T15:00+09:00", "presser-0913", "防衛大臣記者会見(令和6年9月13日)", "木原防衛大臣は9月13日の閣議後会見で、南西諸島の防衛体制と中国軍の動向について述べました。"),
 ("ukr-0906", "mod", "2024-09-06T17:00+09:00", "ukr-0906", "ロシア軍によるウクライナ侵略の状況(9月6日)", "令和6年9月6日時点のロシア軍によるウクライナ侵略の状況を掲載しました。"),
 ("ukr-0913", "mod", "2024-09-13T17:00+09:00", "ukr-0913", "ロシア軍によるウクライナ侵略の状況(9月13日)", "令和6年9月13日時点のロシア軍によるウクライナ侵略の状況を掲載しました。"),
 ("jinji-0901", "mod", "2024-08-30T17:30+09:00", "jinji-0901", "人事発令(令和6年9月1日付)", "令和6年9月1日付の1佐人事を掲載しました。"),
 ("jinji-0909", "mod", "2024-09-06T17:30+09:00", "jinji-0909", "人事発令(令和6年9月9日付)", "令和6年9月9日付の1佐人事を掲載しました。"),
 ("nk-0912", "mod", "2024-09-12T09:00+09:00", "nk-0912", "北朝鮮のミサイル等関連情報(9月12日)", "北朝鮮は9月12日7時37分頃、北朝鮮内陸部から複数発の弾道ミサイルを北東方向に発射しました。"),
 ("nk-0912", "kyodo", "2024-09-12T10:00+09:00", "nk-0912", "North Korea fires short-range ballistic missiles", "North Korea fired several short-range ballistic missiles toward the Sea of Japan at around 7:37 a.m. Thursday, the Japanese government said."),
 ("nk-0918", "mod", "2024-09-18T08:30+09:00", "nk-0918", "北朝鮮のミサイル等関連情報(9月18日)", "北朝鮮は9月18日6時頃、北朝鮮西岸付近から複数発の弾道ミサイルを北東方向に発射しました。"),
 ("nk-0918", "kyodo", "2024-09-18T09:30+09:00", "nk-0918", "North Korea launches ballistic missiles again", "North Korea launched ballistic missiles from near its west coast at around 6 a.m. Wednesday, the Japanese government said."),
]
feeds = {}
labels = {}
for event, outlet, pub, slug, title, desc in A:
    name, lang, base = OUTLETS[outlet]
    link = f"{base}/news/{pub[:10]}/{slug}.html"
    labels[link] = event
    feeds.setdefault(outlet, []).append((link, pub, title, desc))
for outlet, items in feeds.items():
    name, lang, base = OUTLETS[outlet]
    parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">\n<channel>\n<title>{escape(name)}</title>\n<link>{base}/</link>\n<description>{escape(name)}</description>\n<language>{lang}</language>\n']
    for link, pub, title, desc in items:
        dt = datetime.fromisoformat(pub)
        parts.append(f"<item>\n<title>{escape(title)}</title>\n<link>{link}</link>\n<guid>{link}</guid>\n<pubDate>{format_datetime(dt)}</pubDate>\n<description>{escape(desc)}</description>\n</item>\n")
    parts.append("</channel>\n</rss>\n")
    open(f"{OUT}/{outlet}.xml", "w").write("".join(parts))
json.dump(labels, open(f"{OUT}/labels.json", "w"), ensure_ascii=False, indent=1)
toml = ["# Fixture feeds of tests/test_stories*.py: the same events told by several outlets in five",
        "# languages, and look-alikes that are other events. {base_url} is replaced by the test server.",
        "# Written for these tests from public reports of the events (labels.json: link -> event).", "",
        "[categories]", '"国際" = "world"', ""]
for outlet, (name, lang, _base) in OUTLETS.items():
    toml += ["[[source]]", f'key = "{outlet}"', f'name = "{name}"', 'kind = "feed"',
             f'urls = ["{{base_url}}/stories/{outlet}.xml"]', f'language = "{lang}"', 'categories = ["国際"]', ""]
open(f"{OUT}/sources.toml", "w").write("\n".join(toml))

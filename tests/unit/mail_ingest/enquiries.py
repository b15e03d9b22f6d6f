"""Realistic enquiry bodies with the required fields a person reading them would find.

Each expected value is the key part an agent would look for (a name, a phone number, an
address, an OS or browser) or None when the new part of the mail does not give it.
Quoted earlier messages never count.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Enquiry:
    """One mail body and the key parts of its three required fields."""

    name: str
    body: str
    organisation: str | None
    contact: str | None
    environment: str | None


ENQUIRIES: tuple[Enquiry, ...] = (
    Enquiry(
        "ja-bracket-labels",
        """出入国在留管理庁 電子届出システム ヘルプデスク御中

お世話になっております。
届出の送信ボタンを押すとエラーになります。

【機関名】株式会社サンプル商事
【連絡先】03-1234-5678
【利用環境】Windows 11 / Microsoft Edge
""",
        "サンプル商事",
        "03-1234-5678",
        "Windows 11",
    ),
    Enquiry(
        "ja-colon-fullwidth",
        """ログインIDを忘れました。

所属機関名：さくら日本語学校
電話番号：０３－９８７６－５４３２
使用環境：Ｗｉｎｄｏｗｓ１０、Ｃｈｒｏｍｅ
""",
        "さくら日本語学校",
        "03-9876-5432",
        "Windows",
    ),
    Enquiry(
        "ja-square-bullets",
        """特定技能所属機関の届出方法について教えてください。

■会社名：有限会社みなと水産
■担当者：鈴木
■TEL：0120-123-456
■OS：macOS Ventura
■ブラウザ：Safari
""",
        "みなと水産",
        "0120-123-456",
        "Safari",
    ),
    Enquiry(
        "ja-dot-bullets",
        """定期報告の提出についての質問です。

・学校名：東京国際日本語学院
・連絡先：info@tokyo-kokusai.example.jp
・動作環境：iPad（Safari）
""",
        "東京国際日本語学院",
        "info@tokyo-kokusai.example.jp",
        "Safari",
    ),
    Enquiry(
        "ja-next-line-values",
        """お問い合わせです。

機関名
みどり事業協同組合

連絡先
090-1111-2222

利用環境
Windows 11、Google Chrome
""",
        "みどり事業協同組合",
        "090-1111-2222",
        "Windows 11",
    ),
    Enquiry(
        "ja-reply-to-request",
        """ご依頼の情報です。

機関名：合同会社ひかりケア
担当者：山田 花子
メールアドレス：hanako.yamada@hikari-care.example.jp
OS：Windows 10
ブラウザ：Edge

2026年11月25日(水) 10:00 電子届出ヘルプデスク <helpdesk@example.go.jp>:
> お問い合わせありがとうございます。
> 機関名、連絡先、利用環境（OS・ブラウザ）をお知らせください。
""",
        "ひかりケア",
        "hanako.yamada@hikari-care.example.jp",
        "Windows 10",
    ),
    Enquiry(
        "ja-reply-only-environment",
        """ご連絡ありがとうございます。
利用環境はWindows 11のEdgeです。
よろしくお願いいたします。

2026年11月25日(水) 10:00 電子届出ヘルプデスク <helpdesk@example.go.jp>:
> 機関名：株式会社ABC（受付済み）
> 利用環境をお知らせください。
""",
        None,
        None,
        "Windows 11",
    ),
    Enquiry(
        "ja-pipe-table",
        """以下の通りご連絡します。

| 項目 | 内容 |
|---|---|
| 機関名 | 株式会社テクノ人材 |
| 連絡先 | 06-6123-4567 |
| 利用環境 | Windows 11 / Chrome 120 |
""",
        "テクノ人材",
        "06-6123-4567",
        "Chrome",
    ),
    Enquiry(
        "ja-header-table",
        """下記の通りです。

| 機関名 | 連絡先 | 利用環境 |
|---|---|---|
| 有限会社テスト工業 | taro@test-kogyo.example.jp | Win11 Edge |
""",
        "テスト工業",
        "taro@test-kogyo.example.jp",
        "Win11",
    ),
    Enquiry(
        "ja-tab-table",
        "情報を送ります。\n\n機関名\tあおば行政書士事務所\n電話\t045-222-3333\nOS\tmacOS 14\n",
        "あおば行政書士事務所",
        "045-222-3333",
        "macOS",
    ),
    Enquiry(
        "ja-multi-space-table",
        """お世話になります。

機関名      株式会社北斗フーズ
連絡先      011-555-6789
ブラウザ    Firefox
""",
        "北斗フーズ",
        "011-555-6789",
        "Firefox",
    ),
    Enquiry(
        "ja-unlabelled-signature",
        """電子届出システムで届出を作成中に画面が真っ白になりました。
Windows 11 の Edge で操作しています。

--
株式会社ミライ建設
総務部　高橋 一郎
TEL 03-5555-6666  FAX 03-5555-6667
""",
        "ミライ建設",
        "03-5555-6666",
        "Windows 11",
    ),
    Enquiry(
        "ja-unlabelled-sentence",
        """株式会社ABCの田中です。
特定技能外国人の随時届出について質問があります。
Chromeを使っています。
ご連絡は090-8765-4321までお願いします。
""",
        "ABC",
        "090-8765-4321",
        "Chrome",
    ),
    Enquiry(
        "ja-iphone-safari",
        """スマホから失礼します。iPhoneのSafariで開くとボタンが押せません。
ひまわり日本語学院　事務局
090-2222-3333
""",
        "ひまわり日本語学院",
        "090-2222-3333",
        "Safari",
    ),
    Enquiry(
        "ja-nothing-given",
        """電子届出システムの利用者登録の方法を教えてください。
よろしくお願いします。
""",
        None,
        None,
        None,
    ),
    Enquiry(
        "ja-only-org-signature",
        """届出の修正はできますか。

一般社団法人グローバル人材支援機構
""",
        "グローバル人材支援機構",
        None,
        None,
    ),
    Enquiry(
        "ja-person-only",
        """担当者：佐藤
パスワードの再設定をお願いします。
""",
        None,
        None,
        None,
    ),
    Enquiry(
        "ja-fax-only",
        """株式会社大和製作所
FAX：052-111-2222
利用環境：Windows
""",
        "大和製作所",
        None,
        "Windows",
    ),
    Enquiry(
        "ja-placeholders",
        """機関名：なし
連絡先：下記
TEL：090-1234-5678 / FAX：03-1111-2222
利用環境：不明
""",
        None,
        "090-1234-5678",
        None,
    ),
    Enquiry(
        "ja-kabushiki-abbrev",
        """いつもお世話になっております。
㈱サンライズ 人事部の伊藤です。
連絡先：ito@sunrise.example.co.jp
環境：Mac / Chrome
""",
        "サンライズ",
        "ito@sunrise.example.co.jp",
        "Chrome",
    ),
    Enquiry(
        "ja-equals-labels",
        """会社名 = 株式会社オーシャン物流
電話 = 092-333-4444
OS = Windows 11
""",
        "オーシャン物流",
        "092-333-4444",
        "Windows 11",
    ),
    Enquiry(
        "ja-katakana-environment",
        """届出の画面が表示されません。
ウィンドウズ10でグーグルクロームを使っています。

学校法人山田学園
03-3333-4444
""",
        "山田学園",
        "03-3333-4444",
        "Windows",
    ),
    Enquiry(
        "ja-mobile-label",
        """登録支援機関名：株式会社つばさサポート
携帯：080-1234-0000
お使いの端末：Android 14（Chrome）
""",
        "つばさサポート",
        "080-1234-0000",
        "Android",
    ),
    Enquiry(
        "ja-outlook-quote",
        """利用環境を追記します。OSはmacOS、ブラウザはSafariです。

株式会社ネクスト
中村

差出人: 電子届出ヘルプデスク <helpdesk@example.go.jp>
送信日時: 2026年11月25日 10:00
宛先: nakamura@next.example.jp
件名: RE: 届出について

連絡先（電話番号）をお知らせください。TEL: 0570-000-000
""",
        "ネクスト",
        None,
        "macOS",
    ),
    Enquiry(
        "ja-original-message-quote",
        """お世話になっております。
連絡先は 048-777-8888 です。

-----元のメッセージ-----
From: helpdesk@example.go.jp
機関名、連絡先をお知らせください。
""",
        None,
        "048-777-8888",
        None,
    ),
    Enquiry(
        "ja-all-in-quote-only",
        """承知しました。

> 機関名：株式会社クオート
> 連絡先：03-0000-1111
> 利用環境：Windows 11 / Edge
""",
        None,
        None,
        None,
    ),
    Enquiry(
        "ja-signature-lines-box",
        """定期報告の様式がダウンロードできません。Edgeを使用しています。

━━━━━━━━━━━━━━━━━━━━
みらい日本語学校
教務課　小林
〒530-0001 大阪府大阪市北区梅田1-1-1
TEL：06-1111-2222
Mail：kobayashi@mirai-jls.example.jp
━━━━━━━━━━━━━━━━━━━━
""",
        "みらい日本語学校",
        "06-1111-2222",
        "Edge",
    ),
    Enquiry(
        "ja-kyodo-kumiai-signature",
        """支援計画の変更届について質問です。
パソコンはWindows 10、ブラウザはChromeです。

九州農業事業協同組合
担当：松本
電話：0942-11-2233
""",
        "九州農業事業協同組合",
        "0942-11-2233",
        "Windows 10",
    ),
    Enquiry(
        "ja-gyoseishoshi",
        """申請取次の件でお尋ねします。
田中行政書士事務所　田中
tanaka@gyosei.example.jp
""",
        "田中行政書士事務所",
        "tanaka@gyosei.example.jp",
        None,
    ),
    Enquiry(
        "ja-koeki-zaidan",
        """公益財団法人国際交流協会の佐々木です。
ファイアフォックスで表示が崩れます。
電話番号は075-123-9876です。
""",
        "国際交流協会",
        "075-123-9876",
        "Firefox",
    ),
    Enquiry(
        "ja-phone-with-parens",
        """株式会社ホープ
TEL (03)1234-5678
""",
        "ホープ",
        "1234-5678",
        None,
    ),
    Enquiry(
        "ja-plus81-phone",
        """所属：株式会社ワールドリンク
連絡先：+81 90 1234 5678
""",
        "ワールドリンク",
        "90 1234 5678",
        None,
    ),
    Enquiry(
        "ja-postal-and-date-not-phone",
        """令和8年11月25日に届出しました。受付番号は2026-1125-0001です。
〒100-0013 東京都千代田区霞が関1-1-1
""",
        None,
        None,
        None,
    ),
    Enquiry(
        "ja-individual-resident",
        """在留カードの届出について質問です。
機関名：個人
連絡先：nguyen.van.a@example.com
利用環境：Android / Chrome
""",
        "個人",
        "nguyen.van.a@example.com",
        "Android",
    ),
    Enquiry(
        "ja-label-wa-desu",
        """機関名は株式会社エイト精工です。
連絡先は0276-55-1234です。
""",
        "エイト精工",
        "0276-55-1234",
        None,
    ),
    Enquiry(
        "ja-combined-os-browser-label",
        """OS/ブラウザ：Windows 11 / Edge
会社名：株式会社青空
TEL/FAX：03-2222-3333
""",
        "青空",
        "03-2222-3333",
        "Windows 11",
    ),
    Enquiry(
        "ja-halfwidth-katakana",
        """ｶﾌﾞｼｷｶﾞｲｼｬではなく、機関名：ﾐﾄﾞﾘ商事株式会社
連絡先：03-4444-5555
ﾌﾞﾗｳｻﾞ：ｸﾛｰﾑ
""",
        "ミドリ商事",
        "03-4444-5555",
        "Chrome",
    ),
    Enquiry(
        "ja-numbered-list",
        """1. 機関名：株式会社ひまわり介護
2. 連絡先：045-987-6543
3. 利用環境：iPhone / Safari
""",
        "ひまわり介護",
        "045-987-6543",
        "Safari",
    ),
    Enquiry(
        "ja-email-in-signature-only",
        """届出が完了したか確認する方法はありますか。

----------------------------
特定非営利活動法人アジア共生ネット
事務局 渡辺
watanabe@asia-kyosei.example.org
----------------------------
""",
        "アジア共生ネット",
        "watanabe@asia-kyosei.example.org",
        None,
    ),
    Enquiry(
        "ja-question-about-browser",
        """推奨ブラウザを教えてください。
株式会社コスモ
""",
        "コスモ",
        None,
        None,
    ),
    Enquiry(
        "en-labelled",
        """Dear Helpdesk,

I cannot log in to the e-notification system.

Organization: Blue Sky Staffing Co., Ltd.
Contact: +81 3 9999 8888
Environment: Windows 11 / Chrome 131
""",
        "Blue Sky Staffing",
        "3 9999 8888",
        "Windows 11",
    ),
    Enquiry(
        "en-unlabelled-signature",
        """Hello,

The submit button does nothing. I am on macOS Sonoma with Safari 17.

Best regards,
John Smith
ABC Trading Co., Ltd.
Tel: +81 6 1234 5678
""",
        "ABC Trading",
        "6 1234 5678",
        "macOS",
    ),
    Enquiry(
        "en-square-bracket-labels",
        """[Company] Green Field Inc.
[Phone] 03-7777-1212
[OS] Windows 10
[Browser] Firefox
""",
        "Green Field",
        "03-7777-1212",
        "Firefox",
    ),
    Enquiry(
        "en-language-school",
        """Hi,
We are the Osaka Japanese Language School. How do we submit the periodic report?
Email: office@osaka-jls.example.jp
""",
        "Osaka Japanese Language School",
        "office@osaka-jls.example.jp",
        None,
    ),
    Enquiry(
        "en-reply-inline",
        """On Wed, Nov 25, 2026 at 10:00 AM Helpdesk <helpdesk@example.go.jp> wrote:
> Please tell us your organisation name.
Sunrise Cooperative
> And your usage environment?
Android phone, Chrome
""",
        "Sunrise Cooperative",
        None,
        "Android",
    ),
    Enquiry(
        "en-nothing",
        """Hello, how do I reset my password? Thank you.
""",
        None,
        None,
        None,
    ),
    Enquiry(
        "en-email-label-variants",
        """School name: Kobe International Academy
E-mail: admin@kobe-ia.example.jp
Browser: Microsoft Edge
""",
        "Kobe International Academy",
        "admin@kobe-ia.example.jp",
        "Edge",
    ),
    Enquiry(
        "en-phone-number-label",
        """Company name: Pacific Human Resources K.K.
Phone number: 0120-555-777
Operating system: Windows 11
""",
        "Pacific Human Resources",
        "0120-555-777",
        "Windows 11",
    ),
    Enquiry(
        "en-quoted-gmail-two-lines",
        """Here is my phone: 080-3333-4444

On Wed, Nov 25, 2026 at 10:00 AM Electronic Notification Helpdesk <
helpdesk@example.go.jp> wrote:
> Organisation: (not given)
> Please send your contact details. Our number is 0570-000-111.
""",
        None,
        "080-3333-4444",
        None,
    ),
    Enquiry(
        "en-outlook-underscore-quote",
        """Our organisation is Star Support Inc., and I use an iPad.

________________________________
From: Helpdesk <helpdesk@example.go.jp>
Sent: Wednesday, November 25, 2026 10:00
To: me@star.example.com
Subject: Your enquiry

Please tell us your contact number.
""",
        "Star Support",
        None,
        "iPad",
    ),
    Enquiry(
        "en-chromebook",
        """I use a Chromebook at school.
Institution: Hokkaido Language Institute
Tel 011-222-3333
""",
        "Hokkaido Language Institute",
        "011-222-3333",
        "ChromeOS",
    ),
    Enquiry(
        "en-vietnamese-sender",
        """Xin chào. I am a specified skilled worker. My phone is 090-5678-1234.
I use Samsung Internet on Android.
""",
        None,
        "090-5678-1234",
        "Android",
    ),
    Enquiry(
        "en-contact-person-and-email",
        """Contact person: Maria Santos
Email: maria.santos@example.ph
Company: Manila Bridge Cooperative
""",
        "Manila Bridge Cooperative",
        "maria.santos@example.ph",
        None,
    ),
    Enquiry(
        "en-ie",
        """Our office PC only has Internet Explorer 11. Is it supported?
Tokai Logistics Corporation
""",
        "Tokai Logistics",
        None,
        "Internet Explorer",
    ),
    Enquiry(
        "ja-en-mixed-labels",
        """Organisation：株式会社グローバルブリッジ
Tel：03-6666-7777
Browser：Chrome
""",
        "グローバルブリッジ",
        "03-6666-7777",
        "Chrome",
    ),
    Enquiry(
        "ja-free-env-and-phone-sentence",
        """マックのサファリで見ていますが、添付ファイルが送れません。
お手数ですが 080-9999-0000 までお電話ください。
""",
        None,
        "080-9999-0000",
        "Safari",
    ),
    Enquiry(
        "ja-daigaku",
        """東北大学 留学生課の者です。
在籍する学生の届出について質問があります。
利用環境：Windows 11、Chrome
連絡先：022-123-4567
""",
        "東北大学",
        "022-123-4567",
        "Windows 11",
    ),
    Enquiry(
        "ja-org-in-body-and-signature",
        """登録支援機関の株式会社エックスに支援を委託しています。

株式会社ワイ工業
総務　森
03-8888-9999
""",
        "ワイ工業",
        "03-8888-9999",
        None,
    ),
    Enquiry(
        "ja-gmail-quoted-reply-answers-top",
        """ご返信ありがとうございます。

会社名：有限会社カワセミ
電話番号：0467-22-3344
環境：Windows10・Edge

2026年11月26日(木) 9:15 電子届出ヘルプデスク <helpdesk@example.go.jp>:
> 恐れ入りますが、利用環境をお知らせください。
>
> 2026年11月25日(水) 18:00 カワセミ <info@kawasemi.example.jp>:
> > 届出ができません。
""",
        "カワセミ",
        "0467-22-3344",
        "Windows",
    ),
    Enquiry(
        "ja-school-report-question",
        """告示基準に基づく定期報告について質問です。
提出期限はいつでしょうか。
日本語学校の事務担当です。
""",
        None,
        None,
        None,
    ),
    Enquiry(
        "ja-contact-name-and-phone-in-value",
        """機関名：株式会社ライト
連絡先：総務部 木村（03-1212-3434）
""",
        "ライト",
        "03-1212-3434",
        None,
    ),
    Enquiry(
        "ja-environment-unrecognised",
        """会社名：株式会社ソラ
連絡先：03-5656-7878
利用環境：社用のノートパソコン
""",
        "ソラ",
        "03-5656-7878",
        None,
    ),
    Enquiry(
        "ja-gakko-hojin-and-school",
        """学校法人青葉学園　青葉日本語学校
連絡先：aoba@aoba.example.ac.jp
Windows 11 / Firefox
""",
        "青葉学園",
        "aoba@aoba.example.ac.jp",
        "Firefox",
    ),
    Enquiry(
        "ja-mobile-phone-sentence",
        """携帯番号は070-1234-5678です。株式会社ポラリスの者です。
""",
        "ポラリス",
        "070-1234-5678",
        None,
    ),
    Enquiry(
        "ja-hyphenless-phone",
        """連絡先　0312345678
機関名　有限会社イースト
""",
        "イースト",
        "0312345678",
        None,
    ),
    Enquiry(
        "ja-long-dash-phone",
        """株式会社ウエスト
電話 ０６ー１２３４ー５６７８
""",
        "ウエスト",
        "06-1234-5678",
        None,
    ),
    Enquiry(
        "en-cooperative-signature-and-ubuntu",
        """The page does not load on Ubuntu with Firefox.

Regards,
Kanto Agricultural Cooperative
+81-48-123-4567
""",
        "Kanto Agricultural Cooperative",
        "48-123-4567",
        "Firefox",
    ),
    Enquiry(
        "ja-ie-without-version",
        """Win10のIEで届出画面が開きません。
（会社名）株式会社ベータ
TEL.03-1010-2020(代表)
""",
        "ベータ",
        "03-1010-2020",
        "Internet Explorer",
    ),
    Enquiry(
        "en-company-no-suffix-in-sentence",
        """Hello, I work for Hoshi Foods as a specified skilled worker.
My phone is 080-7777-6666 and I use an iPhone.
""",
        "Hoshi Foods",
        "080-7777-6666",
        "iOS",
    ),
    Enquiry(
        "ja-desk-number-mentioned",
        """ヘルプデスク（0570-011-000）に電話しましたがつながりませんでした。
届出の期限について教えてください。
""",
        None,
        None,
        None,
    ),
    Enquiry(
        "en-co-ltd-no-space",
        """Please see below.
Company: Gamma Co.,Ltd.
Mail: staff@gamma.example.com
Device: Galaxy S23
""",
        "Gamma",
        "staff@gamma.example.com",
        "Android",
    ),
    Enquiry(
        "ja-fullwidth-quote-marks",
        """はい、Chromeです。
連絡先：ｉｎｆｏ＠ｋｉｔａ．ｅｘａｍｐｌｅ．ｊｐ

＞ 利用しているブラウザを教えてください。
＞ 機関名：北日本語学院（確認済み）
""",
        None,
        "info@kita.example.jp",
        "Chrome",
    ),
    Enquiry(
        "ja-kinmusaki-wa",
        """勤務先は山本電機です。電話番号は0566-12-3456です。
""",
        "山本電機",
        "0566-12-3456",
        None,
    ),
    Enquiry(
        "ja-browser-latest-only",
        """ブラウザ：最新版
機関名：株式会社オメガ
メール：omega@omega.example.jp
""",
        "オメガ",
        "omega@omega.example.jp",
        None,
    ),
    Enquiry(
        "ja-name-and-phone-for-resident",
        """在留期間更新の届出について。
お名前：グエン・ヴァン・アン
電話：080-4545-6767
スマホ（アンドロイド）から送っています。
""",
        None,
        "080-4545-6767",
        "Android",
    ),
)

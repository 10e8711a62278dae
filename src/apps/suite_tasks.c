/* The bench suite's built-in tasks, written for this project (original text, fictional
 * people and companies; example.co.jp addresses). Each asks for JSON only, names the shape
 * it wants in words and gives its input; the schema beside it is what the reply is checked
 * against (json_check.h's subset). The model sees the instructions, never the schema
 * itself, except in P3, where the function's parameter schema is the input.
 *
 *   P1 task extraction: a business memo with six tasks, two without an owner, two without
 *      a due date (null), dates to resolve from "today"
 *   P2 decisions, open issues and risks from a meeting transcript of about 4,000 characters
 *      (suite_transcript.c)
 *   P3 the arguments of a tool call: a calendar function's JSON Schema and a request
 *
 * The short prompt (under 512 tokens with every tokenizer we know) and the prefix test's
 * questions live here too. */
#include "suite.h"

#include <string.h>

/* ---- P1 ------------------------------------------------------------------------------------ */

static const char g_p1_prompt[] =
    "次の社内メモから、やるべきタスクをすべて抽出してください。\n"
    "出力は JSON の配列だけにしてください（説明文は不要です）。配列の各要素は次の4つのキーを"
    "持つオブジェクトです。\n"
    "- \"title\": タスクの内容（文字列）\n"
    "- \"due_date\": 期限（\"YYYY-MM-DD\" 形式の文字列）。メモに期限がなければ null\n"
    "- \"priority\": \"high\"、\"medium\"、\"low\" のいずれか。メモから判断できなければ null\n"
    "- \"owner\": 担当者の名前（文字列）。担当者が決まっていなければ null\n"
    "今日は 2025年6月2日（月）です。「来週金曜」などの表現は日付に直してください。\n"
    "\n"
    "--- メモ ---\n"
    "件名：新商品「はなまるブレンド」発売準備（6/2 定例のあとで）\n"
    "\n"
    "お疲れさまです、企画部の小林です。今朝の定例で決まったことと、残っている作業をまとめます"
    "。発売日は予定どおり 7月1日（火）です。\n"
    "\n"
    "1. 販売店向けの説明資料は山本さんにお願いしました。来週金曜までに初版をください。店舗"
    "からの問い合わせがすでに来ているので、これは最優先です。\n"
    "2. 価格表の最終確認を経理の佐々木さんに依頼済みです。6月6日が締めで、ここが遅れると"
    "印刷に間に合わないので急ぎでお願いします。\n"
    "3. SNS での告知文の案づくり。担当はまだ決まっていません。発売の1週間前には出したいの"
    "で、手の空いている方がいれば声をかけてください。\n"
    "4. 倉庫の在庫スペースの確保。物流の井上さんが見てくれることになりました。急ぎではあり"
    "ませんし、期限も特に設けていません。\n"
    "5. 試飲会の会場候補を3つほど挙げる件は中村さんに。6月20日までにリストをもらえれば"
    "十分です。\n"
    "6. パッケージ裏面の誤植チェック。印刷所への入稿が 6月9日なので、その前日までに誰か"
    "が見ておく必要があります（担当未定）。見落とすと刷り直しになるので重要です。\n"
    "\n"
    "そのほか、販促用のノベルティについては予算が決まってから改めて相談します（今回は"
    "タスクにしません）。何かあれば小林まで。\n";

static const char g_p1_schema[] =
    "{\"type\": \"array\", \"minItems\": 1,\n"
    " \"items\": {\"type\": \"object\", \"additionalProperties\": false,\n"
    "   \"required\": [\"title\", \"due_date\", \"priority\", \"owner\"],\n"
    "   \"properties\": {\n"
    "     \"title\": {\"type\": \"string\", \"minLength\": 1},\n"
    "     \"due_date\": {\"type\": [\"string\", \"null\"], \"format\": \"date\"},\n"
    "     \"priority\": {\"enum\": [\"high\", \"medium\", \"low\", null]},\n"
    "     \"owner\": {\"type\": [\"string\", \"null\"]}}}}\n";

/* ---- P2 ------------------------------------------------------------------------------------ */

static const char g_p2_schema[] =
    "{\"type\": \"object\", \"additionalProperties\": false,\n"
    " \"required\": [\"decisions\", \"open_issues\", \"risks\"],\n"
    " \"properties\": {\n"
    "   \"decisions\": {\"type\": \"array\", \"items\": {\"type\": \"object\",\n"
    "     \"additionalProperties\": false, \"required\": [\"summary\", \"owner\"],\n"
    "     \"properties\": {\"summary\": {\"type\": \"string\", \"minLength\": 1},\n"
    "                    \"owner\": {\"type\": [\"string\", \"null\"]}}}},\n"
    "   \"open_issues\": {\"type\": \"array\", \"items\": {\"type\": \"object\",\n"
    "     \"additionalProperties\": false, \"required\": [\"summary\", \"owner\"],\n"
    "     \"properties\": {\"summary\": {\"type\": \"string\", \"minLength\": 1},\n"
    "                    \"owner\": {\"type\": [\"string\", \"null\"]}}}},\n"
    "   \"risks\": {\"type\": \"array\", \"items\": {\"type\": \"object\",\n"
    "     \"additionalProperties\": false, \"required\": [\"summary\", \"severity\", "
    "\"mitigation\"],\n"
    "     \"properties\": {\"summary\": {\"type\": \"string\", \"minLength\": 1},\n"
    "                    \"severity\": {\"enum\": [\"high\", \"medium\", \"low\"]},\n"
    "                    \"mitigation\": {\"type\": [\"string\", \"null\"]}}}}}}\n";

/* ---- P3 ------------------------------------------------------------------------------------ */

/* The function's parameters are both P3's input (shown to the model) and its schema. */
#define P3_PARAMETERS                                                                                        \
    "{\"type\": \"object\", \"additionalProperties\": false,\n"                                              \
    " \"required\": [\"title\", \"date\", \"start_time\", \"duration_minutes\", "                            \
    "\"attendees\", \"online\"],\n"                                                                          \
    " \"properties\": {\n"                                                                                   \
    "   \"title\": {\"type\": \"string\", \"minLength\": 1, \"description\": \"予定の件名\"},\n"        \
    "   \"date\": {\"type\": \"string\", \"format\": \"date\", \"description\": "                            \
    "\"YYYY-MM-DD\"},\n"                                                                                     \
    "   \"start_time\": {\"type\": \"string\", \"format\": \"time\", \"description\": "                      \
    "\"開始時刻 HH:MM（24時間制）\"},\n"                                                            \
    "   \"duration_minutes\": {\"type\": \"integer\", \"minimum\": 5, \"maximum\": 480},\n"                  \
    "   \"attendees\": {\"type\": \"array\", \"minItems\": 1,\n"                                             \
    "     \"items\": {\"type\": \"string\", \"format\": \"email\"}},\n"                                      \
    "   \"location\": {\"type\": [\"string\", \"null\"], \"description\": \"場所。なければ "          \
    "null\"},\n"                                                                                             \
    "   \"online\": {\"type\": \"boolean\", \"description\": \"オンライン参加の URL を発行する" \
    "か\"}}}\n"

static const char g_p3_prompt[] =
    "あなたは関数呼び出しの引数を作るアシスタントです。次の関数を呼び出してユーザーの依頼を"
    "実行します。引数を JSON オブジェクトだけで出力してください（関数名や説明文は不要です）。"
    "\n"
    "\n"
    "関数: create_calendar_event — 社内カレンダーに予定を登録する\n"
    "引数の JSON Schema:\n" P3_PARAMETERS "\n"
    "今日は 2025年6月2日（月）です。\n"
    "\n"
    "ユーザーの依頼: 来週の水曜日の午後3時から1時間半、新製品の価格設定について打ち合わせを"
    "入れてください。参加者は営業の佐藤さん（sato@example.co.jp）と経理の田中さん"
    "（tanaka@example.co.jp）、それと私（kobayashi@example.co.jp）です。場所は本社の第2"
    "会議室で、在宅の人も入れるようにオンラインでも参加できるようにしておいてください。\n";

static const char g_p3_schema[] = P3_PARAMETERS;

/* ---- the table ------------------------------------------------------------------------------ */

const suite_task *suite_task_at(int i)
{
    static const suite_task tasks[SUITE_N_TASKS] = {
        {"P1", "task extraction from a memo", g_p1_prompt, g_p1_schema},
        {"P2", "decisions, open issues and risks from a meeting transcript", suite_p2_prompt,
         g_p2_schema},
        {"P3", "arguments of a tool call from a function spec", g_p3_prompt, g_p3_schema},
    };
    if (i < 0 || i >= SUITE_N_TASKS)
        return NULL;
    return &tasks[i];
}

/* ---- latency prompts ------------------------------------------------------------------------ */

const char *suite_short_prompt(void)
{
    return "次の文章を読んで、要点を3つの箇条書きでまとめてください。\n"
           "\n"
           "当社では来月から、在宅勤務の申請方法が変わります。これまでは紙の申請書に上長の"
           "印鑑をもらって総務部に提出していましたが、今後は社内ポータルの「勤務申請」画面"
           "から前日の17時までに申請し、上長がポータル上で承認する形になります。急な体調不良"
           "などで当日に在宅勤務へ切り替える場合は、始業前にチャットで上長に連絡し、その日の"
           "うちに事後申請してください。なお、移行期間として今月末までは紙の申請書も受け付け"
           "ます。操作方法の説明会は来週水曜の12時から、オンラインで30分ほど行います。";
}

const char *suite_long_instruction(void)
{
    return "\n\n--- ここまでが資料です ---\n"
           "上の資料を踏まえて、次の質問に日本語で簡潔に答えてください。\n質問: ";
}

const char *suite_prefix_question(int i)
{
    static const char *const q[] = {
        "この会議で最終的に決まった公開日はいつですか。",
        "テストの人員不足に対して、どのような対策が話し合われましたか。",
        "アクセシビリティの指摘はどう扱うことになりましたか。",
        "料金プランの表示について、誰が何を確認することになりましたか。",
        "次回の会議はいつ、何を議題にしますか。",
        "会議で挙がったリスクのうち、最も重いものは何ですか。",
        "サーバー費用について、どのような懸念が出ましたか。",
        "問い合わせ窓口の体制はどうなりましたか。",
    };
    return q[(size_t)i % TM_ARRAY_LEN(q)];
}

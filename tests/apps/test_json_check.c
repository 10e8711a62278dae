/* The bench suite's JSON rule and schema checker (src/apps/json_check.c): the extraction
 * rule, every keyword of the subset on valid and invalid documents, the reasons' paths, and
 * the three built-in tasks: their schemas are in the subset and a correct answer to each
 * passes (so a breakage rate of 1.0 is the model's, not the checker's). */
#include "apps/json_check.h"
#include "apps/suite.h"
#include "test.h"

static tm_json_verdict check(const char *schema, const char *reply)
{
    tm_json_verdict v;
    tm_err err = {0};
    memset(&v, 0, sizeof v);
    TM_CHECK_OK(tm_json_check(schema, reply, strlen(reply), &v, &err), &err);
    return v;
}

#define CHECK_VALID(schema, reply)                                                   \
    do {                                                                             \
        tm_json_verdict v_ = check(schema, reply);                                   \
        TM_CHECK_MSG(v_.valid, "expected valid: %s\n  reply: %s", v_.reason, reply); \
    } while (0)

/* Invalid, with a reason containing `want`. */
#define CHECK_BROKEN(schema, reply, want)                                                        \
    do {                                                                                         \
        tm_json_verdict v_ = check(schema, reply);                                               \
        TM_CHECK_MSG(!v_.valid && strstr(v_.reason, want), "expected '%s', got '%s' (%s)", want, \
                     v_.reason, v_.valid ? "valid" : "invalid");                                 \
    } while (0)

static const char *const g_tasks_schema =
    "{\"type\": \"array\", \"minItems\": 1, \"maxItems\": 3, \"items\": {\"type\": \"object\", "
    "\"additionalProperties\": false, \"required\": [\"title\", \"due_date\", \"owner\"], "
    "\"properties\": {\"title\": {\"type\": \"string\", \"minLength\": 2, \"maxLength\": 10}, "
    "\"due_date\": {\"type\": [\"string\", \"null\"], \"format\": \"date\"}, "
    "\"owner\": {\"type\": [\"string\", \"null\"]}, "
    "\"priority\": {\"enum\": [\"high\", \"low\", null]}}}}";

static void test_extraction_rule(void)
{
    const char *s = "{\"type\": \"object\"}";
    tm_json_verdict v = check(s, "はい、こちらです: {\"a\": 1} 以上です。{\"b\": 2}");
    TM_CHECK(v.found && v.parsed && v.valid);
    TM_CHECK_EQ_INT(v.len, 8); /* the first value only; the text after it is ignored */
    v = check(s, "[1, 2] ```json\n{\"in\": \"fence\"}\n``` after");
    TM_CHECK(v.parsed && v.valid); /* the fence wins over an earlier '[' */
    TM_CHECK_EQ_INT(v.at, strlen("[1, 2] ```json\n"));
    v = check(s, "```\n{\"unterminated\": \"fence\"}");
    TM_CHECK(v.parsed && v.valid);
    v = check(s, "```json\nno value in the fence\n``` {\"outside\": 1}");
    TM_CHECK(!v.found && !v.parsed && !v.valid); /* only the fence is looked at */
    v = check(s, "JSONはありません");
    TM_CHECK(!v.found && strstr(v.reason, "no JSON value"));
    v = check(s, "{\"a\": [1, 2}");
    TM_CHECK(v.found && !v.parsed && strstr(v.reason, "not JSON"));
    v = check(s, "{\"a\": 1");
    TM_CHECK(v.found && !v.parsed); /* cut off by max tokens */
    v = check(s, "[1, 2]");
    TM_CHECK(v.parsed && !v.valid && strstr(v.reason, "$: an array is not of type object"));
}

static void test_schema_keywords(void)
{
    const char *s = g_tasks_schema;
    CHECK_VALID(s,
                "[{\"title\": \"資料作成\", \"due_date\": \"2025-06-13\", \"owner\": \"山本\"}]");
    CHECK_VALID(s, "[{\"title\": \"誤植確認\", \"due_date\": null, \"owner\": null, "
                   "\"priority\": null}]");
    CHECK_BROKEN(s, "[]", "$: too few items: 0");
    CHECK_BROKEN(s,
                 "[{\"title\": \"ab\", \"due_date\": null, \"owner\": null}, "
                 "{\"title\": \"ab\", \"due_date\": null, \"owner\": null}, "
                 "{\"title\": \"ab\", \"due_date\": null, \"owner\": null}, "
                 "{\"title\": \"ab\", \"due_date\": null, \"owner\": null}]",
                 "too many items: 4");
    CHECK_BROKEN(s, "[{\"title\": \"資料\", \"due_date\": null}]",
                 "$[0]: the required member 'owner' is missing");
    CHECK_BROKEN(s,
                 "[{\"title\": \"ab\", \"due_date\": null, \"owner\": null}, "
                 "{\"title\": \"ab\", \"due_date\": null, \"owner\": 7}]",
                 "$[1].owner: an integer is not of type string or null");
    CHECK_BROKEN(s, "[{\"title\": \"ab\", \"due_date\": \"来週金曜\", \"owner\": null}]",
                 "$[0].due_date: \"来週金曜\" is not a date");
    CHECK_BROKEN(s, "[{\"title\": \"ab\", \"due_date\": \"2025-02-29\", \"owner\": null}]",
                 "is not a date");
    CHECK_BROKEN(s, "[{\"title\": \"ab\", \"due_date\": null, \"owner\": null, \"x\": 1}]",
                 "$[0]: member 'x' is not in the schema");
    CHECK_BROKEN(s,
                 "[{\"title\": \"ab\", \"due_date\": null, \"owner\": null, \"priority\": "
                 "\"urgent\"}]",
                 "$[0].priority: \"urgent\" is not one of the enum's values");
    CHECK_BROKEN(s, "[{\"title\": \"a\", \"due_date\": null, \"owner\": null}]", "is too short");
    CHECK_BROKEN(
        s, "[{\"title\": \"とても長いタスクの名前です\", \"due_date\": null, \"owner\": null}]",
        "is too long"); /* 13 code points: lengths count characters, not bytes */
    CHECK_VALID(s, "[{\"title\": \"十文字ちょうどの件名\", \"due_date\": null, \"owner\": null}]");

    const char *n = "{\"type\": \"object\", \"properties\": {\"n\": {\"type\": \"integer\", "
                    "\"minimum\": 5, \"maximum\": 480}, \"x\": {\"type\": \"number\"}, "
                    "\"b\": {\"type\": \"boolean\"}, \"t\": {\"type\": \"string\", \"format\": "
                    "\"time\"}, \"e\": {\"type\": \"string\", \"format\": \"email\"}}, "
                    "\"additionalProperties\": {\"type\": \"string\"}}";
    CHECK_VALID(n, "{\"n\": 90, \"x\": 1.5, \"b\": true, \"t\": \"15:00\", \"e\": \"a@b.jp\"}");
    CHECK_VALID(n, "{\"n\": 90.0, \"t\": \"23:59:59\", \"other\": \"text\"}");
    CHECK_BROKEN(n, "{\"n\": 90.5}", "$.n: a number is not of type integer");
    CHECK_BROKEN(n, "{\"n\": 4}", "$.n: 4 is out of range");
    CHECK_BROKEN(n, "{\"n\": 481}", "$.n: 481 is out of range");
    CHECK_BROKEN(n, "{\"x\": \"1.5\"}", "$.x: \"1.5\" is not of type number");
    CHECK_BROKEN(n, "{\"b\": \"true\"}", "is not of type boolean");
    CHECK_BROKEN(n, "{\"t\": \"午後3時\"}", "$.t: \"午後3時\" is not a time");
    CHECK_BROKEN(n, "{\"t\": \"24:00\"}", "is not a time");
    CHECK_BROKEN(n, "{\"e\": \"sato at example.co.jp\"}", "is not a email");
    CHECK_BROKEN(n, "{\"e\": \"sato@localhost\"}", "is not a email");
    CHECK_BROKEN(n, "{\"other\": 3}", "$.other: an integer is not of type string");
}

static void test_dates(void)
{
    TM_CHECK(tm_json_is_date("2024-02-29", 10));
    TM_CHECK(tm_json_is_date("2000-02-29", 10));
    TM_CHECK(!tm_json_is_date("1900-02-29", 10));
    TM_CHECK(!tm_json_is_date("2025-02-29", 10));
    TM_CHECK(!tm_json_is_date("2025-04-31", 10));
    TM_CHECK(!tm_json_is_date("2025-13-01", 10));
    TM_CHECK(!tm_json_is_date("2025-6-13", 9));
    TM_CHECK(!tm_json_is_date("2025/06/13", 10));
    TM_CHECK(tm_json_is_date("2025-12-31", 10));
}

static void test_bad_schemas(void)
{
    static const char *const bad[] = {
        "not json",
        "[]",
        "{\"type\": \"strnig\"}",
        "{\"type\": [\"string\", 3]}",
        "{\"type\": []}",
        "{\"pattern\": \"^a\"}", /* outside the subset: refused, not ignored */
        "{\"properties\": {\"a\": {\"oneOf\": []}}}",
        "{\"items\": {\"format\": \"uri\"}}",
        "{\"minItems\": -1}",
        "{\"maximum\": \"ten\"}",
        "{\"enum\": []}",
        "{\"required\": [1]}",
        "{\"additionalProperties\": 3}",
    };
    for (size_t i = 0; i < TM_ARRAY_LEN(bad); i++) {
        tm_err err = {0};
        tm_json_verdict v;
        TM_CHECK_MSG(tm_json_check(bad[i], "{}", 2, &v, &err) == TM_E_ARG && err.msg[0],
                     "schema %s was accepted", bad[i]);
        TM_CHECK_EQ_INT(tm_json_schema_validate(bad[i], NULL), TM_E_ARG);
    }
}

/* Correct answers to the built-in tasks (what a good model would write). */
static const char *const g_answers[SUITE_N_TASKS] = {
    "```json\n[\n"
    " {\"title\": \"販売店向け説明資料の初版作成\", \"due_date\": \"2025-06-13\", \"priority\": "
    "\"high\", \"owner\": \"山本\"},\n"
    " {\"title\": \"価格表の最終確認\", \"due_date\": \"2025-06-06\", \"priority\": \"high\", "
    "\"owner\": \"佐々木\"},\n"
    " {\"title\": \"SNS告知文の案づくり\", \"due_date\": \"2025-06-24\", \"priority\": "
    "\"medium\", \"owner\": null},\n"
    " {\"title\": \"倉庫の在庫スペース確保\", \"due_date\": null, \"priority\": \"low\", "
    "\"owner\": \"井上\"},\n"
    " {\"title\": \"試飲会の会場候補を3つ挙げる\", \"due_date\": \"2025-06-20\", \"priority\": "
    "\"medium\", \"owner\": \"中村\"},\n"
    " {\"title\": \"パッケージ裏面の誤植チェック\", \"due_date\": \"2025-06-08\", \"priority\": "
    "\"high\", \"owner\": null}\n]\n```",
    "{\"decisions\": [{\"summary\": \"公開日を7月15日にする\", \"owner\": \"森\"}, "
    "{\"summary\": \"開発から2名をテストに応援に出す\", \"owner\": \"岡田\"}],"
    " \"open_issues\": [{\"summary\": \"料金表示の法務確認\", \"owner\": \"西村\"}],"
    " \"risks\": [{\"summary\": \"決済APIの仕様変更に間に合わない\", \"severity\": \"high\", "
    "\"mitigation\": \"テスト環境で即確認し、だめなら旧方式の延長を依頼\"}]}",
    "{\"title\": \"新製品の価格設定の打ち合わせ\", \"date\": \"2025-06-11\", \"start_time\": "
    "\"15:00\", \"duration_minutes\": 90, \"attendees\": [\"sato@example.co.jp\", "
    "\"tanaka@example.co.jp\", \"kobayashi@example.co.jp\"], \"location\": \"本社 第2会議室\", "
    "\"online\": true}",
};

static void test_builtin_tasks(void)
{
    for (int i = 0; i < SUITE_N_TASKS; i++) {
        const suite_task *t = suite_task_at(i);
        TM_CHECK(t && t->prompt && strlen(t->prompt) > 100);
        tm_err err = {0};
        TM_CHECK_OK(tm_json_schema_validate(t->schema, &err), &err);
        CHECK_VALID(t->schema, g_answers[i]);
    }
    TM_CHECK(suite_task_at(SUITE_N_TASKS) == NULL);
    /* P2's prompt ends with the whole transcript */
    const char *p2 = suite_task_at(1)->prompt, *tr = suite_transcript();
    TM_CHECK(strlen(tr) > 10000 && strcmp(p2 + strlen(p2) - strlen(tr), tr) == 0);
    CHECK_BROKEN(suite_task_at(0)->schema,
                 "[{\"title\": \"x\", \"due_date\": \"来週金曜\", \"priority\": \"high\", "
                 "\"owner\": null}]",
                 "$[0].due_date");
    CHECK_BROKEN(suite_task_at(2)->schema,
                 "{\"title\": \"x\", \"date\": \"2025-06-11\", \"start_time\": \"3pm\", "
                 "\"duration_minutes\": 90, \"attendees\": [\"a@b.jp\"], \"online\": true}",
                 "$.start_time");
}

int main(void)
{
    TM_RUN(test_extraction_rule);
    TM_RUN(test_schema_keywords);
    TM_RUN(test_dates);
    TM_RUN(test_bad_schemas);
    TM_RUN(test_builtin_tasks);
    return tm_test_result();
}

/* apps: the subcommands, each a thin user of the layers below. Every app takes the
 * arguments after its name (argv[0] is the subcommand), prints its results to stdout and
 * "error: <message>" to stderr, and returns the process exit status: 0 success, 1 failure,
 * 2 bad usage. Every app answers --help. */
#ifndef TM_APPS_H
#define TM_APPS_H

typedef struct tm_app {
    const char *name;
    const char *summary; /* one line for `temoto --help` */
    int (*main)(int argc, char **argv);
} tm_app;

int tm_app_logits_main(int argc, char **argv);
int tm_app_run_main(int argc, char **argv);
int tm_app_info_main(int argc, char **argv);
int tm_app_quantize_main(int argc, char **argv);
int tm_app_synth_main(int argc, char **argv);
int tm_app_convert_llama2c_main(int argc, char **argv);
int tm_app_bench_main(int argc, char **argv);
int tm_app_bench_suite_main(int argc, char **argv); /* `temoto bench suite` */
int tm_app_tokenize_main(int argc, char **argv);
int tm_app_convert_tokenizer_main(int argc, char **argv);
int tm_app_template_main(int argc, char **argv);
int tm_app_chat_main(int argc, char **argv);
int tm_app_plan_main(int argc, char **argv);

/* The apps this build has, NULL-terminated by a zero entry. */
extern const tm_app tm_apps[];

#endif

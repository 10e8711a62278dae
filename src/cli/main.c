/* temoto: subcommand dispatch only. */
#include "apps/apps.h"
#include "temoto.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out, "temoto %s: local AI runtime\n\nusage: temoto <command> [options]\n\ncommands:\n",
            tm_version_str());
    for (const tm_app *a = tm_apps; a->name; a++)
        fprintf(out, "  %-18s %s\n", a->name, a->summary);
    fprintf(out, "\n'temoto <command> --help' describes a command.\n");
}

int main(int argc, char **argv)
{
    if (tm_version_num() != TM_VERSION_NUM) {
        fprintf(stderr, "error: libtemoto %s does not match this program (%d.%d)\n",
                tm_version_str(), TM_VERSION_MAJOR, TM_VERSION_MINOR);
        return 1;
    }
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("temoto %s\n", tm_version_str());
        return 0;
    }
    for (const tm_app *a = tm_apps; a->name; a++)
        if (strcmp(argv[1], a->name) == 0)
            return a->main(argc - 1, argv + 1);
    fprintf(stderr, "error: unknown command '%s' (see 'temoto --help')\n", argv[1]);
    return 2;
}

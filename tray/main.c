/*
 * main.c - roamsmtp-tray [-c CONFIG | -s SOCKET] [--backend auto|sni|xembed]
 *
 * Finds the control socket as roamsmtpctl does (-s, else runtime-dir of
 * the config, else the default config's), then hands over to tray_app.c.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib-unix.h>
#include <gtk/gtk.h>

#include "conf.h"
#include "diag.h"
#include "tray.h"

#ifndef ROAMSMTP_VERSION
#define ROAMSMTP_VERSION	"unknown"
#endif

#define EXIT_USAGE	2

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: roamsmtp-tray [-c CONFIG | -s SOCKET] "
	    "[--backend auto|sni|xembed]\n"
	    "\n"
	    "  -c, --config FILE   read the control socket's place from FILE\n"
	    "  -s, --socket PATH   the control socket itself\n"
	    "      --backend B     sni: StatusNotifierItem; xembed: the old "
	    "system tray;\n"
	    "                      auto (default): sni when a StatusNotifier "
	    "watcher runs\n"
	    "  -h, --help          this text\n"
	    "      --version       the version\n");
}

/* As roamsmtpctl: -s, or runtime-dir of the config. */
static char *
socket_path(const char *config, const char *sock)
{
	struct daemon_conf	 conf;
	struct diag		 d;
	char			*path;
	size_t			 i;

	if (sock != NULL)
		return g_strdup(sock);
	diag_init(&d);
	if (conf_load(config, &conf, &d) == -1) {
		for (i = 0; i < d.n; i++)
			fprintf(stderr, "roamsmtp-tray: %s\n", d.msgs[i]);
		diag_free(&d);
		return NULL;
	}
	diag_free(&d);
	path = g_build_filename(conf.runtime_dir, "control", NULL);
	conf_free(&conf);
	return path;
}

static gboolean
on_signal(gpointer data)
{
	gtk_main_quit();
	return G_SOURCE_CONTINUE;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config",	required_argument,	NULL, 'c' },
		{ "socket",	required_argument,	NULL, 's' },
		{ "backend",	required_argument,	NULL, 'b' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	static struct tray	 t;
	const char		*config = NULL, *sock = NULL;
	int			 ch;

	while ((ch = getopt_long(argc, argv, "c:s:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'b':
			if (strcmp(optarg, "auto") == 0)
				t.backend = TRAY_BACKEND_AUTO;
			else if (strcmp(optarg, "sni") == 0)
				t.backend = TRAY_BACKEND_SNI;
			else if (strcmp(optarg, "xembed") == 0)
				t.backend = TRAY_BACKEND_XEMBED;
			else {
				fprintf(stderr, "roamsmtp-tray: --backend "
				    "%s: say auto, sni or xembed\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case 'V':
			printf("roamsmtp-tray %s\n", ROAMSMTP_VERSION);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (config != NULL && sock != NULL) {
		fprintf(stderr, "roamsmtp-tray: give -c or -s, not both\n");
		return EXIT_USAGE;
	}
	if ((t.socket_path = socket_path(config, sock)) == NULL)
		return EXIT_USAGE;

	g_set_prgname("roamsmtp-tray");
	g_set_application_name("roamsmtp");
	if (!gtk_init_check(&argc, &argv)) {
		fprintf(stderr, "roamsmtp-tray: cannot open the display (is "
		    "DISPLAY set?)\n");
		return EXIT_FAILURE;
	}
	tray_icon_init_theme();
	g_unix_signal_add(SIGTERM, on_signal, NULL);
	g_unix_signal_add(SIGINT, on_signal, NULL);
	tray_app_start(&t);
	gtk_main();
	g_message("quit");
	return EXIT_SUCCESS;
}

/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "AiqSmtpSink"

#include "config.h"

#include <gio/gio.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

/*
 * aiq-smtp-sink: a small SMTP server for tests, on 127.0.0.1. It takes every
 * message it is given and writes it to a directory as NNNN.eml (the raw
 * message) and NNNN.json (the envelope), each written atomically, the .json
 * last, before it answers 250 to the end of DATA.
 *
 *   aiq-smtp-sink --dir DIR [--port N] [--tls CERT KEY] [--implicit-tls]
 *                 [--user U --password P] [--require-tls] [--auth PLAIN,LOGIN]
 *                 [--idle-timeout SECONDS]
 *
 * It prints "port=N" on stdout once it listens and exits on SIGTERM or SIGINT.
 */

#define SINK_MAX_COMMAND_LINE 2048
#define SINK_MAX_DATA_LINE (64 * 1024)
#define SINK_MAX_MESSAGE_SIZE (25 * 1000 * 1000)
#define SINK_MAX_RECIPIENTS 100
#define SINK_MAX_ERRORS 20
#define SINK_READ_SIZE 16384

typedef struct {
	gchar *dir;
	guint16 port;
	GTlsCertificate *certificate;
	gboolean implicit_tls;
	gchar *user;
	gchar *password;
	gboolean require_tls;
	gchar **auth_mechs;
	guint idle_timeout;
	guint next_id;
	GSocketService *service;
	GList *clients;
	gboolean quitting;
	GMainLoop *loop;
} Sink;

typedef enum {
	CLIENT_COMMAND,
	CLIENT_DATA,
	CLIENT_AUTH_PLAIN,
	CLIENT_AUTH_LOGIN_USER,
	CLIENT_AUTH_LOGIN_PASSWORD,
} ClientState;

typedef enum {
	AFTER_WRITE_CONTINUE,
	AFTER_WRITE_CLOSE,
	AFTER_WRITE_STARTTLS,
} AfterWrite;

typedef struct {
	Sink *sink;
	GSocketConnection *connection;
	GIOStream *stream; /* the connection, or TLS over it */
	GCancellable *cancellable;
	GString *inbuf;
	guint8 readbuf[SINK_READ_SIZE];
	gchar *reply;
	AfterWrite after_write;
	ClientState state;
	gboolean tls;
	gboolean greeted;
	gchar *auth_user;
	gchar *login_user;
	gchar *mail_from;
	GPtrArray *rcpt;
	GString *data;
	gboolean data_too_large;
	guint errors;
} Client;

static void
client_process(Client *client);
static void
client_read(Client *client);
static void
client_handshake_cb(GObject *source, GAsyncResult *res, gpointer user_data);

static void
client_free(Client *client)
{
	Sink *sink = client->sink;
	sink->clients = g_list_remove(sink->clients, client);
	if (client->connection != NULL)
		g_io_stream_close(G_IO_STREAM(client->connection), NULL, NULL);
	g_clear_object(&client->stream);
	g_clear_object(&client->connection);
	g_clear_object(&client->cancellable);
	g_string_free(client->inbuf, TRUE);
	g_free(client->reply);
	g_free(client->auth_user);
	g_free(client->login_user);
	g_free(client->mail_from);
	g_ptr_array_unref(client->rcpt);
	if (client->data != NULL)
		g_string_free(client->data, TRUE);
	g_free(client);
	if (sink->quitting && sink->clients == NULL)
		g_main_loop_quit(sink->loop);
}

static void
client_reset_transaction(Client *client)
{
	g_clear_pointer(&client->mail_from, g_free);
	g_ptr_array_set_size(client->rcpt, 0);
	if (client->data != NULL) {
		g_string_free(client->data, TRUE);
		client->data = NULL;
	}
	client->data_too_large = FALSE;
}

static void
client_write_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Client *client = user_data;
	g_autoptr(GError) error = NULL;

	if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), res, NULL, &error)) {
		g_debug("write failed: %s", error->message);
		client_free(client);
		return;
	}
	g_clear_pointer(&client->reply, g_free);
	switch (client->after_write) {
	case AFTER_WRITE_CLOSE:
		client_free(client);
		return;
	case AFTER_WRITE_STARTTLS: {
		GIOStream *tls = g_tls_server_connection_new(G_IO_STREAM(client->connection),
							     client->sink->certificate,
							     &error);
		if (tls == NULL) {
			g_warning("cannot start TLS: %s", error->message);
			client_free(client);
			return;
		}
		g_clear_object(&client->stream);
		client->stream = tls;
		client->after_write = AFTER_WRITE_CONTINUE;
		g_tls_connection_handshake_async(G_TLS_CONNECTION(tls),
						 G_PRIORITY_DEFAULT,
						 client->cancellable,
						 client_handshake_cb,
						 client);
		return;
	}
	case AFTER_WRITE_CONTINUE:
	default:
		client_process(client);
		return;
	}
}

/* sends one reply; the next line is handled once it is written */
static void
client_reply(Client *client, AfterWrite after, const gchar *format, ...) G_GNUC_PRINTF(3, 4);

static void
client_reply(Client *client, AfterWrite after, const gchar *format, ...)
{
	va_list args;
	gchar *text;
	va_start(args, format);
	text = g_strdup_vprintf(format, args);
	va_end(args);
	g_free(client->reply);
	client->reply = g_strconcat(text, "\r\n", NULL);
	g_free(text);
	client->after_write = after;
	g_output_stream_write_all_async(g_io_stream_get_output_stream(client->stream),
					client->reply,
					strlen(client->reply),
					G_PRIORITY_DEFAULT,
					client->cancellable,
					client_write_cb,
					client);
}

static void
client_error_reply(Client *client, const gchar *reply)
{
	if (++client->errors >= SINK_MAX_ERRORS)
		client_reply(client, AFTER_WRITE_CLOSE, "421 4.7.0 Too many errors, closing");
	else
		client_reply(client, AFTER_WRITE_CONTINUE, "%s", reply);
}

/* "FROM:<a@b> SIZE=12" after the verb: the address between < and > */
static gboolean
parse_path(const gchar *arg, const gchar *keyword, gchar **address, const gchar **params)
{
	const gchar *start;
	const gchar *end;
	if (g_ascii_strncasecmp(arg, keyword, strlen(keyword)) != 0)
		return FALSE;
	arg += strlen(keyword);
	while (*arg == ' ')
		arg++;
	if (*arg != '<')
		return FALSE;
	start = arg + 1;
	end = strchr(start, '>');
	if (end == NULL)
		return FALSE;
	*address = g_strndup(start, (gsize)(end - start));
	*params = end + 1;
	return TRUE;
}

static gboolean
sink_write_message(Sink *sink, Client *client, guint *id, GError **error)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonGenerator) generator = json_generator_new();
	g_autoptr(JsonNode) root = NULL;
	g_autofree gchar *json = NULL;
	g_autofree gchar *eml_path = NULL;
	g_autofree gchar *json_path = NULL;

	/* the next free number, in case the directory is shared */
	for (;;) {
		g_autofree gchar *name = g_strdup_printf("%04u.json", sink->next_id);
		g_autofree gchar *path = g_build_filename(sink->dir, name, NULL);
		if (!g_file_test(path, G_FILE_TEST_EXISTS))
			break;
		sink->next_id++;
	}
	*id = sink->next_id++;

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "from");
	json_builder_add_string_value(builder, client->mail_from);
	json_builder_set_member_name(builder, "rcpt");
	json_builder_begin_array(builder);
	for (guint i = 0; i < client->rcpt->len; i++)
		json_builder_add_string_value(builder, g_ptr_array_index(client->rcpt, i));
	json_builder_end_array(builder);
	json_builder_set_member_name(builder, "tls");
	json_builder_add_boolean_value(builder, client->tls);
	json_builder_set_member_name(builder, "auth_user");
	if (client->auth_user != NULL)
		json_builder_add_string_value(builder, client->auth_user);
	else
		json_builder_add_null_value(builder);
	json_builder_set_member_name(builder, "size");
	json_builder_add_int_value(builder, (gint64)client->data->len);
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	json_generator_set_root(generator, root);
	json_generator_set_pretty(generator, TRUE);
	json = json_generator_to_data(generator, NULL);

	eml_path = g_strdup_printf("%s/%04u.eml", sink->dir, *id);
	json_path = g_strdup_printf("%s/%04u.json", sink->dir, *id);
	/* g_file_set_contents() writes a temporary file and renames it */
	return g_file_set_contents(eml_path, client->data->str, (gssize)client->data->len, error) &&
	       g_file_set_contents(json_path, json, -1, error);
}

static void
client_handle_data_line(Client *client, const gchar *line, gsize len)
{
	if (len == 1 && line[0] == '.') {
		g_autoptr(GError) error = NULL;
		guint id = 0;
		client->state = CLIENT_COMMAND;
		if (client->data_too_large) {
			client_reset_transaction(client);
			client_reply(client,
				     AFTER_WRITE_CONTINUE,
				     "552 5.3.4 Message too big for this sink");
			return;
		}
		if (!sink_write_message(client->sink, client, &id, &error)) {
			g_warning("cannot store message: %s", error->message);
			client_reset_transaction(client);
			client_reply(client,
				     AFTER_WRITE_CONTINUE,
				     "451 4.3.0 Cannot store message");
			return;
		}
		g_debug("stored message %04u", id);
		client_reset_transaction(client);
		client_reply(client, AFTER_WRITE_CONTINUE, "250 2.0.0 OK queued as %04u", id);
		return;
	}
	/* dot-unstuffing */
	if (line[0] == '.') {
		line++;
		len--;
	}
	if (client->data_too_large || client->data->len + len + 2 > SINK_MAX_MESSAGE_SIZE) {
		client->data_too_large = TRUE;
		return;
	}
	g_string_append_len(client->data, line, (gssize)len);
	g_string_append(client->data, "\r\n");
}

static gboolean
client_check_credentials(Client *client, const gchar *user, const gchar *password)
{
	Sink *sink = client->sink;
	if (g_strcmp0(user, sink->user) == 0 && g_strcmp0(password, sink->password) == 0) {
		g_free(client->auth_user);
		client->auth_user = g_strdup(user);
		return TRUE;
	}
	return FALSE;
}

static void
client_auth_reply(Client *client, gboolean ok)
{
	client->state = CLIENT_COMMAND;
	g_clear_pointer(&client->login_user, g_free);
	if (ok)
		client_reply(client, AFTER_WRITE_CONTINUE, "235 2.7.0 Authentication successful");
	else
		client_error_reply(client, "535 5.7.8 Authentication credentials invalid");
}

/* authzid NUL authcid NUL password */
static void
client_auth_plain(Client *client, const gchar *b64)
{
	gsize len = 0;
	g_autofree guchar *raw = g_base64_decode(b64, &len);
	const gchar *authcid;
	const gchar *password;
	g_autofree gchar *user = NULL;
	g_autofree gchar *pass = NULL;
	const gchar *nul1 = raw != NULL ? memchr(raw, '\0', len) : NULL;
	const gchar *nul2 =
		nul1 != NULL ? memchr(nul1 + 1, '\0', len - (gsize)(nul1 + 1 - (const gchar *)raw))
			     : NULL;

	if (nul2 == NULL) {
		client->state = CLIENT_COMMAND;
		client_error_reply(client, "501 5.5.2 Cannot decode AUTH PLAIN response");
		return;
	}
	authcid = nul1 + 1;
	password = nul2 + 1;
	user = g_strndup(authcid, (gsize)(nul2 - authcid));
	pass = g_strndup(password, len - (gsize)(password - (const gchar *)raw));
	client_auth_reply(client, client_check_credentials(client, user, pass));
}

static gchar *
decode_b64_text(const gchar *b64)
{
	gsize len = 0;
	g_autofree guchar *raw = g_base64_decode(b64, &len);
	return g_strndup((const gchar *)raw, len);
}

static gboolean
client_auth_offered(Client *client)
{
	Sink *sink = client->sink;
	return sink->user != NULL && (client->tls || !sink->require_tls);
}

static void
client_handle_auth(Client *client, const gchar *arg)
{
	Sink *sink = client->sink;
	g_auto(GStrv) parts = g_strsplit(arg, " ", 2);
	const gchar *mech = parts[0] != NULL ? parts[0] : "";
	const gchar *initial = parts[0] != NULL ? parts[1] : NULL;
	gboolean known = FALSE;

	if (sink->user == NULL) {
		client_error_reply(client, "503 5.5.1 AUTH not available");
		return;
	}
	if (!client_auth_offered(client)) {
		client_error_reply(client, "530 5.7.0 Must issue a STARTTLS command first");
		return;
	}
	if (client->auth_user != NULL) {
		client_error_reply(client, "503 5.5.1 Already authenticated");
		return;
	}
	for (guint i = 0; sink->auth_mechs[i] != NULL; i++)
		known = known || g_ascii_strcasecmp(mech, sink->auth_mechs[i]) == 0;
	if (!known) {
		client_error_reply(client, "504 5.5.4 Unrecognized authentication type");
		return;
	}
	if (g_ascii_strcasecmp(mech, "PLAIN") == 0) {
		if (initial != NULL && g_strcmp0(initial, "=") != 0) {
			client_auth_plain(client, initial);
			return;
		}
		client->state = CLIENT_AUTH_PLAIN;
		client_reply(client, AFTER_WRITE_CONTINUE, "334 ");
		return;
	}
	/* LOGIN */
	if (initial != NULL) {
		client->login_user = decode_b64_text(initial);
		client->state = CLIENT_AUTH_LOGIN_PASSWORD;
		client_reply(client, AFTER_WRITE_CONTINUE, "334 UGFzc3dvcmQ6");
		return;
	}
	client->state = CLIENT_AUTH_LOGIN_USER;
	client_reply(client, AFTER_WRITE_CONTINUE, "334 VXNlcm5hbWU6");
}

static void
client_handle_auth_line(Client *client, const gchar *line)
{
	if (g_strcmp0(line, "*") == 0) {
		client->state = CLIENT_COMMAND;
		g_clear_pointer(&client->login_user, g_free);
		client_error_reply(client, "501 5.0.0 Authentication cancelled");
		return;
	}
	switch (client->state) {
	case CLIENT_AUTH_PLAIN:
		client_auth_plain(client, line);
		return;
	case CLIENT_AUTH_LOGIN_USER:
		client->login_user = decode_b64_text(line);
		client->state = CLIENT_AUTH_LOGIN_PASSWORD;
		client_reply(client, AFTER_WRITE_CONTINUE, "334 UGFzc3dvcmQ6");
		return;
	case CLIENT_AUTH_LOGIN_PASSWORD: {
		g_autofree gchar *password = decode_b64_text(line);
		client_auth_reply(client,
				  client_check_credentials(client, client->login_user, password));
		return;
	}
	case CLIENT_COMMAND:
	case CLIENT_DATA:
	default:
		g_assert_not_reached();
	}
}

static void
client_handle_ehlo(Client *client, const gchar *arg)
{
	Sink *sink = client->sink;
	g_autoptr(GString) reply = g_string_new(NULL);
	g_autofree gchar *mechs = g_strjoinv(" ", sink->auth_mechs);

	client_reset_transaction(client);
	client->greeted = TRUE;
	g_string_append_printf(reply, "250-localhost greets %s\r\n", arg[0] != '\0' ? arg : "you");
	g_string_append_printf(reply, "250-SIZE %u\r\n", (guint)SINK_MAX_MESSAGE_SIZE);
	g_string_append(reply, "250-8BITMIME\r\n");
	if (sink->certificate != NULL && !client->tls)
		g_string_append(reply, "250-STARTTLS\r\n");
	if (client_auth_offered(client))
		g_string_append_printf(reply, "250-AUTH %s\r\n", mechs);
	g_string_append(reply, "250 HELP");
	client_reply(client, AFTER_WRITE_CONTINUE, "%s", reply->str);
}

static void
client_handle_command(Client *client, const gchar *line)
{
	Sink *sink = client->sink;
	g_autofree gchar *verb = NULL;
	const gchar *arg;
	const gchar *space = strchr(line, ' ');

	verb = space != NULL ? g_strndup(line, (gsize)(space - line)) : g_strdup(line);
	arg = space != NULL ? space + 1 : "";

	if (g_ascii_strcasecmp(verb, "EHLO") == 0) {
		client_handle_ehlo(client, arg);
	} else if (g_ascii_strcasecmp(verb, "HELO") == 0) {
		client_reset_transaction(client);
		client->greeted = TRUE;
		client_reply(client, AFTER_WRITE_CONTINUE, "250 localhost");
	} else if (g_ascii_strcasecmp(verb, "STARTTLS") == 0) {
		if (sink->certificate == NULL || client->tls) {
			client_error_reply(client, "454 4.7.0 TLS not available");
			return;
		}
		/* whatever the client sent after STARTTLS is not to be trusted */
		g_string_truncate(client->inbuf, 0);
		client_reset_transaction(client);
		client->greeted = FALSE;
		client_reply(client, AFTER_WRITE_STARTTLS, "220 2.0.0 Ready to start TLS");
	} else if (g_ascii_strcasecmp(verb, "AUTH") == 0) {
		if (!client->greeted) {
			client_error_reply(client, "503 5.5.1 Send EHLO first");
			return;
		}
		client_handle_auth(client, arg);
	} else if (g_ascii_strcasecmp(verb, "MAIL") == 0) {
		g_autofree gchar *address = NULL;
		const gchar *params = NULL;
		if (!client->greeted) {
			client_error_reply(client, "503 5.5.1 Send EHLO first");
		} else if (sink->require_tls && !client->tls) {
			client_error_reply(client, "530 5.7.0 Must issue a STARTTLS command first");
		} else if (sink->user != NULL && client->auth_user == NULL) {
			client_error_reply(client, "530 5.7.0 Authentication required");
		} else if (client->mail_from != NULL) {
			client_error_reply(client, "503 5.5.1 Nested MAIL command");
		} else if (!parse_path(arg, "FROM:", &address, &params)) {
			client_error_reply(client, "501 5.5.4 Syntax: MAIL FROM:<address>");
		} else {
			const gchar *size = strstr(params, "SIZE=");
			if (size != NULL &&
			    g_ascii_strtoull(size + 5, NULL, 10) > SINK_MAX_MESSAGE_SIZE) {
				client_error_reply(client,
						   "552 5.3.4 Message too big for this sink");
				return;
			}
			client->mail_from = g_steal_pointer(&address);
			client_reply(client, AFTER_WRITE_CONTINUE, "250 2.1.0 OK");
		}
	} else if (g_ascii_strcasecmp(verb, "RCPT") == 0) {
		g_autofree gchar *address = NULL;
		const gchar *params = NULL;
		if (client->mail_from == NULL) {
			client_error_reply(client, "503 5.5.1 Need MAIL first");
		} else if (!parse_path(arg, "TO:", &address, &params) || address[0] == '\0') {
			client_error_reply(client, "501 5.5.4 Syntax: RCPT TO:<address>");
		} else if (client->rcpt->len >= SINK_MAX_RECIPIENTS) {
			client_error_reply(client, "452 4.5.3 Too many recipients");
		} else {
			g_ptr_array_add(client->rcpt, g_steal_pointer(&address));
			client_reply(client, AFTER_WRITE_CONTINUE, "250 2.1.5 OK");
		}
	} else if (g_ascii_strcasecmp(verb, "DATA") == 0) {
		if (client->mail_from == NULL || client->rcpt->len == 0) {
			client_error_reply(client, "503 5.5.1 Need MAIL and RCPT first");
			return;
		}
		client->state = CLIENT_DATA;
		client->data = g_string_new(NULL);
		client_reply(client, AFTER_WRITE_CONTINUE, "354 End data with <CR><LF>.<CR><LF>");
	} else if (g_ascii_strcasecmp(verb, "RSET") == 0) {
		client_reset_transaction(client);
		client_reply(client, AFTER_WRITE_CONTINUE, "250 2.0.0 OK");
	} else if (g_ascii_strcasecmp(verb, "NOOP") == 0) {
		client_reply(client, AFTER_WRITE_CONTINUE, "250 2.0.0 OK");
	} else if (g_ascii_strcasecmp(verb, "QUIT") == 0) {
		client_reply(client, AFTER_WRITE_CLOSE, "221 2.0.0 Bye");
	} else if (g_ascii_strcasecmp(verb, "VRFY") == 0) {
		client_reply(client, AFTER_WRITE_CONTINUE, "252 2.1.5 Cannot VRFY user");
	} else if (g_ascii_strcasecmp(verb, "HELP") == 0) {
		client_reply(client, AFTER_WRITE_CONTINUE, "214 2.0.0 This is a test sink");
	} else {
		client_error_reply(client, "500 5.5.2 Command not recognized");
	}
}

/*
 * Handles the buffered lines until one of them sends a reply (the rest wait
 * for the write to finish) or no whole line is left (then reads more).
 */
static void
client_process(Client *client)
{
	for (;;) {
		gchar *nl = memchr(client->inbuf->str, '\n', client->inbuf->len);
		gsize max =
			client->state == CLIENT_DATA ? SINK_MAX_DATA_LINE : SINK_MAX_COMMAND_LINE;
		g_autofree gchar *line = NULL;
		gsize len;

		if (nl == NULL) {
			if (client->inbuf->len > max) {
				client_reply(client, AFTER_WRITE_CLOSE, "500 5.5.6 Line too long");
				return;
			}
			client_read(client);
			return;
		}
		len = (gsize)(nl - client->inbuf->str);
		if (len > max) {
			client_reply(client, AFTER_WRITE_CLOSE, "500 5.5.6 Line too long");
			return;
		}
		line = g_strndup(client->inbuf->str, len);
		g_string_erase(client->inbuf, 0, (gssize)len + 1);
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';

		if (client->state == CLIENT_DATA) {
			client_handle_data_line(client, line, len);
			if (client->state == CLIENT_DATA)
				continue;
			return;
		}
		if (strlen(line) != len) {
			client_error_reply(client, "500 5.5.2 NUL in command");
			return;
		}
		if (client->state != CLIENT_COMMAND)
			client_handle_auth_line(client, line);
		else
			client_handle_command(client, line);
		return;
	}
}

static void
client_read_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Client *client = user_data;
	g_autoptr(GError) error = NULL;
	gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), res, &error);

	if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) &&
	    !client->sink->quitting) {
		client_reply(client, AFTER_WRITE_CLOSE, "421 4.4.2 Idle timeout, closing");
		return;
	}
	if (n <= 0) {
		if (error != NULL && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			g_debug("read failed: %s", error->message);
		client_free(client);
		return;
	}
	g_string_append_len(client->inbuf, (const gchar *)client->readbuf, n);
	client_process(client);
}

static void
client_read(Client *client)
{
	g_input_stream_read_async(g_io_stream_get_input_stream(client->stream),
				  client->readbuf,
				  sizeof(client->readbuf),
				  G_PRIORITY_DEFAULT,
				  client->cancellable,
				  client_read_cb,
				  client);
}

static void
client_greet(Client *client)
{
	client_reply(client,
		     AFTER_WRITE_CONTINUE,
		     "220 localhost ESMTP AutomateIQ test sink ready");
}

static void
client_handshake_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Client *client = user_data;
	g_autoptr(GError) error = NULL;
	if (!g_tls_connection_handshake_finish(G_TLS_CONNECTION(source), res, &error)) {
		g_debug("TLS handshake failed: %s", error->message);
		client_free(client);
		return;
	}
	client->tls = TRUE;
	/* implicit TLS: the greeting comes after the handshake; after STARTTLS
	 * the client speaks first */
	if (client->sink->implicit_tls) {
		client_greet(client);
		return;
	}
	client_read(client);
}

static gboolean
sink_incoming_cb(GSocketService *service,
		 GSocketConnection *connection,
		 GObject *source_object,
		 gpointer user_data)
{
	Sink *sink = user_data;
	Client *client;

	if (sink->quitting)
		return FALSE;
	client = g_new0(Client, 1);
	client->sink = sink;
	client->connection = g_object_ref(connection);
	client->stream = G_IO_STREAM(g_object_ref(connection));
	client->cancellable = g_cancellable_new();
	client->inbuf = g_string_new(NULL);
	client->rcpt = g_ptr_array_new_with_free_func(g_free);
	sink->clients = g_list_prepend(sink->clients, client);
	/* an idle client is dropped: reads and writes time out */
	g_socket_set_timeout(g_socket_connection_get_socket(connection), sink->idle_timeout);

	if (sink->implicit_tls) {
		g_autoptr(GError) error = NULL;
		GIOStream *tls = g_tls_server_connection_new(G_IO_STREAM(connection),
							     sink->certificate,
							     &error);
		if (tls == NULL) {
			g_warning("cannot start TLS: %s", error->message);
			client_free(client);
			return TRUE;
		}
		g_clear_object(&client->stream);
		client->stream = tls;
		g_tls_connection_handshake_async(G_TLS_CONNECTION(tls),
						 G_PRIORITY_DEFAULT,
						 client->cancellable,
						 client_handshake_cb,
						 client);
		return TRUE;
	}
	client_greet(client);
	return TRUE;
}

static gboolean
sink_quit_timeout_cb(gpointer user_data)
{
	Sink *sink = user_data;
	g_main_loop_quit(sink->loop);
	return G_SOURCE_REMOVE;
}

static gboolean
sink_signal_cb(gpointer user_data)
{
	Sink *sink = user_data;
	if (sink->quitting)
		return G_SOURCE_CONTINUE;
	sink->quitting = TRUE;
	g_socket_service_stop(sink->service);
	g_socket_listener_close(G_SOCKET_LISTENER(sink->service));
	if (sink->clients == NULL) {
		g_main_loop_quit(sink->loop);
		return G_SOURCE_CONTINUE;
	}
	/* let every client see its cancelled operation and go */
	for (GList *l = sink->clients; l != NULL; l = l->next) {
		Client *client = l->data;
		g_cancellable_cancel(client->cancellable);
	}
	g_timeout_add_seconds(2, sink_quit_timeout_cb, sink);
	return G_SOURCE_CONTINUE;
}

static G_GNUC_NORETURN void
usage(const gchar *message)
{
	g_printerr("aiq-smtp-sink: %s\n"
		   "usage: aiq-smtp-sink --dir DIR [--port N] [--tls CERT KEY] [--implicit-tls]\n"
		   "                     [--user U --password P] [--require-tls]\n"
		   "                     [--auth PLAIN,LOGIN] [--idle-timeout SECONDS]\n",
		   message);
	exit(2);
}

static const gchar *
next_arg(gint argc, gchar **argv, gint *i)
{
	if (*i + 1 >= argc) {
		g_autofree gchar *message = g_strdup_printf("%s needs a value", argv[*i]);
		usage(message);
	}
	return argv[++*i];
}

int
main(int argc, char **argv)
{
	Sink sink = { 0 };
	g_autofree gchar *cert_file = NULL;
	g_autofree gchar *key_file = NULL;
	g_autofree gchar *auth = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GInetAddress) loopback = NULL;
	g_autoptr(GSocketAddress) address = NULL;
	g_autoptr(GSocketAddress) effective = NULL;
	guint64 port = 0;
	guint64 idle = 30;

#ifdef __linux__
	/* a test that dies does not leave its sink behind */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
	for (gint i = 1; i < argc; i++) {
		const gchar *arg = argv[i];
		if (g_strcmp0(arg, "--dir") == 0) {
			g_free(sink.dir);
			sink.dir = g_strdup(next_arg(argc, argv, &i));
		} else if (g_strcmp0(arg, "--port") == 0) {
			if (!g_ascii_string_to_unsigned(next_arg(argc, argv, &i),
							10,
							0,
							65535,
							&port,
							NULL))
				usage("--port takes a number from 0 to 65535");
		} else if (g_strcmp0(arg, "--tls") == 0) {
			g_free(cert_file);
			g_free(key_file);
			cert_file = g_strdup(next_arg(argc, argv, &i));
			key_file = g_strdup(next_arg(argc, argv, &i));
		} else if (g_strcmp0(arg, "--implicit-tls") == 0) {
			sink.implicit_tls = TRUE;
		} else if (g_strcmp0(arg, "--user") == 0) {
			g_free(sink.user);
			sink.user = g_strdup(next_arg(argc, argv, &i));
		} else if (g_strcmp0(arg, "--password") == 0) {
			g_free(sink.password);
			sink.password = g_strdup(next_arg(argc, argv, &i));
		} else if (g_strcmp0(arg, "--require-tls") == 0) {
			sink.require_tls = TRUE;
		} else if (g_strcmp0(arg, "--auth") == 0) {
			g_free(auth);
			auth = g_strdup(next_arg(argc, argv, &i));
		} else if (g_strcmp0(arg, "--idle-timeout") == 0) {
			if (!g_ascii_string_to_unsigned(next_arg(argc, argv, &i),
							10,
							1,
							3600,
							&idle,
							NULL))
				usage("--idle-timeout takes a number of seconds from 1 to 3600");
		} else {
			g_autofree gchar *message = g_strdup_printf("unknown argument %s", arg);
			usage(message);
		}
	}
	if (sink.dir == NULL)
		usage("--dir is required");
	if ((sink.user == NULL) != (sink.password == NULL))
		usage("--user and --password go together");
	if ((sink.implicit_tls || sink.require_tls) && cert_file == NULL)
		usage("--implicit-tls and --require-tls need --tls CERT KEY");
	sink.auth_mechs = g_strsplit(auth != NULL ? auth : "PLAIN,LOGIN", ",", -1);
	for (guint i = 0; sink.auth_mechs[i] != NULL; i++) {
		if (g_ascii_strcasecmp(sink.auth_mechs[i], "PLAIN") != 0 &&
		    g_ascii_strcasecmp(sink.auth_mechs[i], "LOGIN") != 0)
			usage("--auth takes PLAIN, LOGIN or both");
	}
	sink.idle_timeout = (guint)idle;
	sink.next_id = 1;

	if (cert_file != NULL) {
		if (!g_tls_backend_supports_tls(g_tls_backend_get_default())) {
			g_printerr("aiq-smtp-sink: no TLS backend; install glib-networking\n");
			return 1;
		}
		sink.certificate = g_tls_certificate_new_from_files(cert_file, key_file, &error);
		if (sink.certificate == NULL) {
			g_printerr("aiq-smtp-sink: %s\n", error->message);
			return 1;
		}
	}
	if (g_mkdir_with_parents(sink.dir, 0700) != 0) {
		g_printerr("aiq-smtp-sink: cannot create %s\n", sink.dir);
		return 1;
	}

	sink.loop = g_main_loop_new(NULL, FALSE);
	sink.service = g_socket_service_new();
	loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	address = g_inet_socket_address_new(loopback, (guint16)port);
	if (!g_socket_listener_add_address(G_SOCKET_LISTENER(sink.service),
					   address,
					   G_SOCKET_TYPE_STREAM,
					   G_SOCKET_PROTOCOL_TCP,
					   NULL,
					   &effective,
					   &error)) {
		g_printerr("aiq-smtp-sink: cannot listen: %s\n", error->message);
		return 1;
	}
	sink.port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(effective));
	g_signal_connect(sink.service, "incoming", G_CALLBACK(sink_incoming_cb), &sink);
	g_unix_signal_add(SIGTERM, sink_signal_cb, &sink);
	g_unix_signal_add(SIGINT, sink_signal_cb, &sink);
	g_socket_service_start(sink.service);

	printf("port=%u\n", (guint)sink.port);
	fflush(stdout);

	g_main_loop_run(sink.loop);

	while (sink.clients != NULL)
		client_free(sink.clients->data);
	g_object_unref(sink.service);
	g_main_loop_unref(sink.loop);
	g_clear_object(&sink.certificate);
	g_strfreev(sink.auth_mechs);
	g_free(sink.dir);
	g_free(sink.user);
	g_free(sink.password);
	return 0;
}

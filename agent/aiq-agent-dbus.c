/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The agent's D-Bus layer: a gdbus-codegen skeleton of io.automateiq.Agent1
 * over the core. It mirrors the core's properties, forwards its signals,
 * authorizes Enroll and TestStep and hands them to the core; nothing else.
 */

#define G_LOG_DOMAIN "AiqAgent"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <polkit/polkit.h>
#include <unistd.h>

#include "aiq-agent-dbus.h"
#include "aiq-dbus-agent1.h"
#include "aiq-error.h"

#define AIQ_AGENT_DBUS_ACTION_ENROLL "io.automateiq.agent.enroll"
#define AIQ_AGENT_DBUS_ACTION_TEST_STEP "io.automateiq.agent.test-step"

typedef enum {
	AIQ_AGENT_DBUS_NAME_NONE,
	AIQ_AGENT_DBUS_NAME_PENDING,
	AIQ_AGENT_DBUS_NAME_OWNED,
	AIQ_AGENT_DBUS_NAME_LOST,
} AiqAgentDbusNameState;

struct _AiqAgentDbus {
	GObject parent_instance;
	AiqAgent *agent;
	AiqDbusAgent1 *skeleton;
	GDBusConnection *connection; /* while started */
	gboolean own_connection;     /* made by aiq_agent_dbus_start(), closed at stop */
	gboolean use_polkit;         /* on the system bus */
	guint allowed_uid;           /* without polkit: the only uid that may call */
	PolkitAuthority *authority;  /* once obtained */
	GCancellable *cancellable;   /* of the calls in flight; cancelled at stop */
	guint owner_id;
	AiqAgentDbusNameState name_state;
};

G_DEFINE_TYPE(AiqAgentDbus, aiq_agent_dbus, G_TYPE_OBJECT)

enum {
	PROP_0,
	PROP_ALLOWED_UID,
	N_PROPS,
};
static GParamSpec *props[N_PROPS];

/* mirroring the core */

/* D-Bus strings are never NULL */
static const gchar *
aiq_agent_dbus_str(const gchar *str)
{
	return str != NULL ? str : "";
}

/* copies the core's property @property (every one when %NULL) into the
 * skeleton, which emits PropertiesChanged for the values that changed */
static void
aiq_agent_dbus_sync_property(AiqAgentDbus *self, const gchar *property)
{
	AiqDbusAgent1 *iface = self->skeleton;
	AiqAgent *agent = self->agent;
	const gchar *const empty[] = { NULL };

	if (property == NULL || g_str_equal(property, "enrolled"))
		aiq_dbus_agent1_set_enrolled(iface, aiq_agent_get_enrolled(agent));
	if (property == NULL || g_str_equal(property, "server"))
		aiq_dbus_agent1_set_server(iface, aiq_agent_dbus_str(aiq_agent_get_server(agent)));
	if (property == NULL || g_str_equal(property, "agent-id"))
		aiq_dbus_agent1_set_agent_id(iface,
					     aiq_agent_dbus_str(aiq_agent_get_agent_id(agent)));
	if (property == NULL || g_str_equal(property, "name"))
		aiq_dbus_agent1_set_name(iface, aiq_agent_dbus_str(aiq_agent_get_name(agent)));
	if (property == NULL || g_str_equal(property, "labels"))
		aiq_dbus_agent1_set_labels(
			iface,
			aiq_agent_get_labels(agent) != NULL ? aiq_agent_get_labels(agent) : empty);
	if (property == NULL || g_str_equal(property, "connection")) {
		AiqAgentConnection connection = aiq_agent_get_connection(agent);
		aiq_dbus_agent1_set_connection_state(iface,
						     aiq_agent_connection_to_string(connection));
	}
	if (property == NULL || g_str_equal(property, "last-error"))
		aiq_dbus_agent1_set_last_error(iface,
					       aiq_agent_dbus_str(aiq_agent_get_last_error(agent)));
	if (property == NULL || g_str_equal(property, "running")) {
		g_auto(GStrv) running = aiq_agent_dup_running(agent);
		aiq_dbus_agent1_set_running_executions(
			iface,
			running != NULL ? (const gchar *const *)running : empty);
	}
	if (property == NULL || g_str_equal(property, "capacity"))
		aiq_dbus_agent1_set_capacity(iface, aiq_agent_get_capacity(agent));
	if (property == NULL || g_str_equal(property, "outbox-depth"))
		aiq_dbus_agent1_set_outbox_depth(iface, aiq_agent_get_outbox_depth(agent));
	if (property == NULL || g_str_equal(property, "outbox-full"))
		aiq_dbus_agent1_set_outbox_full(iface, aiq_agent_get_outbox_full(agent));
	if (property == NULL || g_str_equal(property, "version"))
		aiq_dbus_agent1_set_version(iface,
					    aiq_agent_dbus_str(aiq_agent_get_version(agent)));
}

static void
aiq_agent_dbus_notify_cb(AiqAgent *agent, GParamSpec *pspec, AiqAgentDbus *self)
{
	aiq_agent_dbus_sync_property(self, g_param_spec_get_name(pspec));
}

static void
aiq_agent_dbus_execution_started_cb(AiqAgent *agent,
				    const gchar *id,
				    const gchar *workflow,
				    AiqAgentDbus *self)
{
	aiq_dbus_agent1_emit_execution_started(self->skeleton, id, aiq_agent_dbus_str(workflow));
}

static void
aiq_agent_dbus_execution_finished_cb(AiqAgent *agent,
				     const gchar *id,
				     const gchar *status,
				     AiqAgentDbus *self)
{
	aiq_dbus_agent1_emit_execution_finished(self->skeleton, id, aiq_agent_dbus_str(status));
}

/* authorization */

/* without polkit (a session bus, a private connection): only the allowed
 * uid, by default the agent's own */
static gboolean
aiq_agent_dbus_check_uid(AiqAgentDbus *self,
			 GDBusMethodInvocation *invocation,
			 guint caller_uid,
			 GError **error)
{
	if (caller_uid == self->allowed_uid)
		return TRUE;
	g_set_error(error,
		    AIQ_ERROR,
		    AIQ_ERROR_PERMISSION_DENIED,
		    /* TRANSLATORS: %s is a D-Bus method (Enroll, TestStep), the numbers are uids */
		    _("user %u may not call %s: only the agent's own user (%u) may"),
		    caller_uid,
		    g_dbus_method_invocation_get_method_name(invocation),
		    self->allowed_uid);
	return FALSE;
}

/* not finding out who calls refuses the call, unless it was cancelled */
static void
aiq_agent_dbus_auth_return_error(GTask *task, GError *error, const gchar *prefix)
{
	g_dbus_error_strip_remote_error(error);
	aiq_error_convert(&error);
	if (error->code != AIQ_ERROR_CANCELLED)
		error->code = AIQ_ERROR_PERMISSION_DENIED;
	g_prefix_error(&error, "%s", prefix);
	g_task_return_error(task, error);
}

typedef struct {
	GDBusMethodInvocation *invocation; /* a reference of our own, never completed here */
	const gchar *action_id;
} AiqAgentDbusAuth;

static void
aiq_agent_dbus_auth_free(AiqAgentDbusAuth *auth)
{
	g_object_unref(auth->invocation);
	g_free(auth);
}

static void
aiq_agent_dbus_polkit_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	AiqAgentDbusAuth *auth = g_task_get_task_data(task);
	const gchar *method = g_dbus_method_invocation_get_method_name(auth->invocation);
	g_autoptr(GError) error = NULL;
	g_autoptr(PolkitAuthorizationResult) result =
		polkit_authority_check_authorization_finish(POLKIT_AUTHORITY(source), res, &error);

	if (result == NULL) {
		aiq_agent_dbus_auth_return_error(task,
						 g_steal_pointer(&error),
						 _("cannot check the authorization with polkit: "));
		return;
	}
	if (polkit_authorization_result_get_is_authorized(result)) {
		g_task_return_boolean(task, TRUE);
		return;
	}
	if (polkit_authorization_result_get_is_challenge(result)) {
		g_task_return_new_error(
			task,
			AIQ_ERROR,
			AIQ_ERROR_PERMISSION_DENIED,
			/* TRANSLATORS: a D-Bus method and a polkit action id */
			_("authentication is required to call %s (polkit action %s): call it allowing interactive authorization"),
			method,
			auth->action_id);
		return;
	}
	g_task_return_new_error(task,
				AIQ_ERROR,
				AIQ_ERROR_PERMISSION_DENIED,
				/* TRANSLATORS: a D-Bus method and a polkit action id */
				_("not authorized to call %s (polkit action %s)"),
				method,
				auth->action_id);
}

static void
aiq_agent_dbus_check_polkit(GTask *task_owned)
{
	g_autoptr(GTask) task = task_owned;
	AiqAgentDbus *self = g_task_get_source_object(task);
	AiqAgentDbusAuth *auth = g_task_get_task_data(task);
	GDBusMessage *message = g_dbus_method_invocation_get_message(auth->invocation);
	const gchar *sender = g_dbus_method_invocation_get_sender(auth->invocation);
	PolkitCheckAuthorizationFlags flags = POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE;
	g_autoptr(PolkitSubject) subject = NULL;

	g_assert(self->authority != NULL);
	if (sender == NULL) {
		g_task_return_new_error(task,
					AIQ_ERROR,
					AIQ_ERROR_PERMISSION_DENIED,
					_("the caller has no bus name to check with polkit"));
		return;
	}
	if (g_dbus_message_get_flags(message) &
	    G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION)
		flags |= POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION;
	subject = polkit_system_bus_name_new(sender);
	polkit_authority_check_authorization(self->authority,
					     subject,
					     auth->action_id,
					     NULL,
					     flags,
					     g_task_get_cancellable(task),
					     aiq_agent_dbus_polkit_cb,
					     g_steal_pointer(&task));
}

static void
aiq_agent_dbus_authority_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	AiqAgentDbus *self = g_task_get_source_object(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(PolkitAuthority) authority = polkit_authority_get_finish(res, &error);

	if (authority == NULL) {
		aiq_agent_dbus_auth_return_error(task,
						 g_steal_pointer(&error),
						 _("cannot check the authorization with polkit: "));
		return;
	}
	if (self->authority == NULL)
		self->authority = g_steal_pointer(&authority);
	aiq_agent_dbus_check_polkit(g_steal_pointer(&task));
}

static void
aiq_agent_dbus_unix_user_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	AiqAgentDbus *self = g_task_get_source_object(task);
	AiqAgentDbusAuth *auth = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply =
		g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);
	guint uid = 0;

	if (reply == NULL) {
		aiq_agent_dbus_auth_return_error(task,
						 g_steal_pointer(&error),
						 _("cannot find out the caller's user: "));
		return;
	}
	g_variant_get(reply, "(u)", &uid);
	if (!aiq_agent_dbus_check_uid(self, auth->invocation, uid, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_boolean(task, TRUE);
}

/*
 * aiq_agent_dbus_authorize_async:
 * @action_id: the polkit action of the call
 *
 * Decides whether the caller of @invocation may make the call: polkit on the
 * system bus; elsewhere the caller's uid (from the bus, or the peer
 * credentials of a private connection) must be the allowed one.
 */
static void
aiq_agent_dbus_authorize_async(AiqAgentDbus *self,
			       GDBusMethodInvocation *invocation,
			       const gchar *action_id,
			       GCancellable *cancellable,
			       GAsyncReadyCallback callback,
			       gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	AiqAgentDbusAuth *auth = g_new0(AiqAgentDbusAuth, 1);
	GDBusConnection *connection = g_dbus_method_invocation_get_connection(invocation);
	const gchar *sender = g_dbus_method_invocation_get_sender(invocation);

	g_task_set_source_tag(task, aiq_agent_dbus_authorize_async);
	auth->invocation = g_object_ref(invocation);
	auth->action_id = action_id;
	g_task_set_task_data(task, auth, (GDestroyNotify)aiq_agent_dbus_auth_free);

	if (self->use_polkit) {
		if (self->authority != NULL) {
			aiq_agent_dbus_check_polkit(g_steal_pointer(&task));
			return;
		}
		polkit_authority_get_async(cancellable,
					   aiq_agent_dbus_authority_cb,
					   g_steal_pointer(&task));
		return;
	}

	/* a private connection: the credentials the peer authenticated with */
	if (sender == NULL) {
		GCredentials *credentials = g_dbus_connection_get_peer_credentials(connection);
		g_autoptr(GError) error = NULL;
		uid_t uid;

		if (credentials == NULL) {
			g_task_return_new_error(
				task,
				AIQ_ERROR,
				AIQ_ERROR_PERMISSION_DENIED,
				_("the caller's user is not known on this connection"));
			return;
		}
		uid = g_credentials_get_unix_user(credentials, &error);
		if (uid == (uid_t)-1) {
			aiq_agent_dbus_auth_return_error(task,
							 g_steal_pointer(&error),
							 _("cannot find out the caller's user: "));
			return;
		}
		if (!aiq_agent_dbus_check_uid(self, invocation, uid, &error)) {
			g_task_return_error(task, g_steal_pointer(&error));
			return;
		}
		g_task_return_boolean(task, TRUE);
		return;
	}

	/* a bus: ask the bus who the sender is */
	g_dbus_connection_call(connection,
			       "org.freedesktop.DBus",
			       "/org/freedesktop/DBus",
			       "org.freedesktop.DBus",
			       "GetConnectionUnixUser",
			       g_variant_new("(s)", sender),
			       G_VARIANT_TYPE("(u)"),
			       G_DBUS_CALL_FLAGS_NONE,
			       -1,
			       cancellable,
			       aiq_agent_dbus_unix_user_cb,
			       g_steal_pointer(&task));
}

static gboolean
aiq_agent_dbus_authorize_finish(AiqAgentDbus *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	g_return_val_if_fail(g_task_get_source_tag(G_TASK(res)) == aiq_agent_dbus_authorize_async,
			     FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/* the methods */

/* one method call on its way through authorization and the core; its
 * invocation is completed exactly once */
typedef struct {
	AiqAgentDbus *self;
	GDBusMethodInvocation *invocation;
} AiqAgentDbusCall;

static AiqAgentDbusCall *
aiq_agent_dbus_call_new(AiqAgentDbus *self, GDBusMethodInvocation *invocation)
{
	AiqAgentDbusCall *call = g_new0(AiqAgentDbusCall, 1);
	call->self = g_object_ref(self);
	call->invocation = invocation; /* the handler's reference, taken by the reply */
	return call;
}

static void
aiq_agent_dbus_call_free(AiqAgentDbusCall *call)
{
	g_assert(call->invocation == NULL);
	g_object_unref(call->self);
	g_free(call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AiqAgentDbusCall, aiq_agent_dbus_call_free)

/* errors leave in the AIQ_ERROR domain, so that they cross the bus with their code */
static void
aiq_agent_dbus_call_return_error(AiqAgentDbusCall *call, GError *error)
{
	aiq_error_convert(&error);
	g_dbus_method_invocation_return_gerror(g_steal_pointer(&call->invocation), error);
}

static void
aiq_agent_dbus_enroll_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqAgentDbusCall) call = user_data;
	AiqAgentDbus *self = call->self;
	g_autoptr(GError) error = NULL;

	if (!aiq_agent_enroll_finish(AIQ_AGENT(source), res, &error)) {
		aiq_agent_dbus_call_return_error(call, error);
		return;
	}
	aiq_dbus_agent1_complete_enroll(self->skeleton,
					g_steal_pointer(&call->invocation),
					aiq_agent_dbus_str(aiq_agent_get_agent_id(self->agent)));
}

static void
aiq_agent_dbus_enroll_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqAgentDbusCall) call = user_data;
	AiqAgentDbus *self = call->self;
	g_autoptr(GError) error = NULL;
	g_autofree const gchar **labels = NULL;
	const gchar *server = NULL;
	const gchar *token = NULL;
	const gchar *name = NULL;
	const gchar *ca_pem = NULL;

	if (!aiq_agent_dbus_authorize_finish(self, res, &error)) {
		aiq_agent_dbus_call_return_error(call, error);
		return;
	}
	/* the strings belong to the invocation, which lives until the reply */
	g_variant_get(g_dbus_method_invocation_get_parameters(call->invocation),
		      "(&s&s&s^a&s&s)",
		      &server,
		      &token,
		      &name,
		      &labels,
		      &ca_pem);
	/* an empty name, label list or CA means "not given" */
	aiq_agent_enroll_async(self->agent,
			       server,
			       token,
			       name[0] != '\0' ? name : NULL,
			       labels[0] != NULL ? labels : NULL,
			       ca_pem[0] != '\0' ? ca_pem : NULL,
			       self->cancellable,
			       aiq_agent_dbus_enroll_cb,
			       g_steal_pointer(&call));
}

static gboolean
aiq_agent_dbus_handle_enroll_cb(AiqDbusAgent1 *skeleton,
				GDBusMethodInvocation *invocation,
				const gchar *server,
				const gchar *token,
				const gchar *name,
				const gchar *const *labels,
				const gchar *ca_pem,
				AiqAgentDbus *self)
{
	aiq_agent_dbus_authorize_async(self,
				       invocation,
				       AIQ_AGENT_DBUS_ACTION_ENROLL,
				       self->cancellable,
				       aiq_agent_dbus_enroll_authorized_cb,
				       aiq_agent_dbus_call_new(self, invocation));
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
aiq_agent_dbus_test_step_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqAgentDbusCall) call = user_data;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *result_json = NULL;
	g_autofree gchar *log = NULL;

	if (!aiq_agent_test_step_finish(AIQ_AGENT(source), res, &result_json, &log, &error)) {
		aiq_agent_dbus_call_return_error(call, error);
		return;
	}
	aiq_dbus_agent1_complete_test_step(call->self->skeleton,
					   g_steal_pointer(&call->invocation),
					   result_json != NULL ? result_json : "{}",
					   aiq_agent_dbus_str(log));
}

static void
aiq_agent_dbus_test_step_authorized_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(AiqAgentDbusCall) call = user_data;
	AiqAgentDbus *self = call->self;
	g_autoptr(GError) error = NULL;
	const gchar *step_json = NULL;
	const gchar *inputs_json = NULL;

	if (!aiq_agent_dbus_authorize_finish(self, res, &error)) {
		aiq_agent_dbus_call_return_error(call, error);
		return;
	}
	g_variant_get(g_dbus_method_invocation_get_parameters(call->invocation),
		      "(&s&s)",
		      &step_json,
		      &inputs_json);
	aiq_agent_test_step_async(self->agent,
				  step_json,
				  inputs_json[0] != '\0' ? inputs_json : NULL,
				  self->cancellable,
				  aiq_agent_dbus_test_step_cb,
				  g_steal_pointer(&call));
}

static gboolean
aiq_agent_dbus_handle_test_step_cb(AiqDbusAgent1 *skeleton,
				   GDBusMethodInvocation *invocation,
				   const gchar *step_json,
				   const gchar *inputs_json,
				   AiqAgentDbus *self)
{
	aiq_agent_dbus_authorize_async(self,
				       invocation,
				       AIQ_AGENT_DBUS_ACTION_TEST_STEP,
				       self->cancellable,
				       aiq_agent_dbus_test_step_authorized_cb,
				       aiq_agent_dbus_call_new(self, invocation));
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* the name */

static void
aiq_agent_dbus_name_acquired_cb(GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	AiqAgentDbus *self = AIQ_AGENT_DBUS(user_data);
	self->name_state = AIQ_AGENT_DBUS_NAME_OWNED;
	g_debug("acquired %s", name);
}

static void
aiq_agent_dbus_name_lost_cb(GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	AiqAgentDbus *self = AIQ_AGENT_DBUS(user_data);
	/* after start only a closed connection takes the name away (it is
	 * never queued for nor given up); the agent keeps running its jobs */
	if (self->name_state == AIQ_AGENT_DBUS_NAME_OWNED)
		g_warning("lost %s: the connection to the bus closed", name);
	self->name_state = AIQ_AGENT_DBUS_NAME_LOST;
}

/*
 * Owns the name and waits for the answer, iterating the thread-default
 * main context: at startup only, before the caller runs its main loop.
 */
static gboolean
aiq_agent_dbus_own_name(AiqAgentDbus *self, const gchar *where, GError **error)
{
	g_autoptr(GMainContext) context = g_main_context_ref_thread_default();
	g_autoptr(GVariant) has_owner = NULL;
	gboolean taken = TRUE;

	self->name_state = AIQ_AGENT_DBUS_NAME_PENDING;
	self->owner_id = g_bus_own_name_on_connection(self->connection,
						      AIQ_AGENT_DBUS_NAME,
						      G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
						      aiq_agent_dbus_name_acquired_cb,
						      aiq_agent_dbus_name_lost_cb,
						      self,
						      NULL);
	while (self->name_state == AIQ_AGENT_DBUS_NAME_PENDING)
		g_main_context_iteration(context, TRUE);
	if (self->name_state == AIQ_AGENT_DBUS_NAME_OWNED)
		return TRUE;

	if (g_dbus_connection_is_closed(self->connection)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_CONNECTION,
			    /* TRANSLATORS: the first %s is the D-Bus name, the second "the system
			       bus", "the session bus" or "this bus" */
			    _("cannot own %s: the connection to %s closed"),
			    AIQ_AGENT_DBUS_NAME,
			    where);
		return FALSE;
	}
	/* the bus refuses the name to users its policy does not allow (on the
	 * system bus, any but the agent's service user): tell that apart from
	 * a name that is taken */
	has_owner = g_dbus_connection_call_sync(self->connection,
						"org.freedesktop.DBus",
						"/org/freedesktop/DBus",
						"org.freedesktop.DBus",
						"NameHasOwner",
						g_variant_new("(s)", AIQ_AGENT_DBUS_NAME),
						G_VARIANT_TYPE("(b)"),
						G_DBUS_CALL_FLAGS_NONE,
						-1,
						NULL,
						NULL);
	if (has_owner != NULL)
		g_variant_get(has_owner, "(b)", &taken);
	if (!taken) {
		g_set_error(
			error,
			AIQ_ERROR,
			AIQ_ERROR_PERMISSION_DENIED,
			/* TRANSLATORS: the first %s is the D-Bus name, the second "the system
			   bus", "the session bus" or "this bus" */
			_("the bus does not allow this user to own %s on %s: see the bus's policy for the name"),
			AIQ_AGENT_DBUS_NAME,
			where);
		return FALSE;
	}
	g_set_error(error,
		    AIQ_ERROR,
		    AIQ_ERROR_CONFLICT,
		    /* TRANSLATORS: the first %s is the D-Bus name, the second "the system bus",
		       "the session bus" or "this bus" */
		    _("another agent already owns %s on %s"),
		    AIQ_AGENT_DBUS_NAME,
		    where);
	return FALSE;
}

static gboolean
aiq_agent_dbus_export(AiqAgentDbus *self,
		      GDBusConnection *connection,
		      const gchar *where,
		      GError **error)
{
	g_assert(self->connection == NULL);

	self->connection = g_object_ref(connection);
	g_clear_object(&self->cancellable);
	self->cancellable = g_cancellable_new();
	aiq_agent_dbus_sync_property(self, NULL);

	/* the object first, so that it is there as soon as the name is */
	if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(self->skeleton),
					      connection,
					      AIQ_AGENT_DBUS_PATH,
					      error)) {
		aiq_error_convert(error);
		g_prefix_error(error, _("cannot export %s: "), AIQ_AGENT_DBUS_PATH);
		aiq_agent_dbus_stop(self);
		return FALSE;
	}
	/* a private connection without a bus has no names */
	if (g_dbus_connection_get_unique_name(connection) == NULL)
		return TRUE;
	if (!aiq_agent_dbus_own_name(self, where, error)) {
		aiq_agent_dbus_stop(self);
		return FALSE;
	}
	return TRUE;
}

/* the object */

static void
aiq_agent_dbus_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	AiqAgentDbus *self = AIQ_AGENT_DBUS(object);
	switch (prop_id) {
	case PROP_ALLOWED_UID:
		g_value_set_uint(value, self->allowed_uid);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
aiq_agent_dbus_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
	AiqAgentDbus *self = AIQ_AGENT_DBUS(object);
	switch (prop_id) {
	case PROP_ALLOWED_UID:
		if (self->allowed_uid != g_value_get_uint(value)) {
			self->allowed_uid = g_value_get_uint(value);
			g_object_notify_by_pspec(object, pspec);
		}
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
		break;
	}
}

static void
aiq_agent_dbus_dispose(GObject *object)
{
	AiqAgentDbus *self = AIQ_AGENT_DBUS(object);

	aiq_agent_dbus_stop(self);
	if (self->agent != NULL)
		g_signal_handlers_disconnect_by_data(self->agent, self);
	if (self->skeleton != NULL)
		g_signal_handlers_disconnect_by_data(self->skeleton, self);
	g_clear_object(&self->agent);
	g_clear_object(&self->skeleton);
	g_clear_object(&self->authority);
	g_clear_object(&self->cancellable);
	G_OBJECT_CLASS(aiq_agent_dbus_parent_class)->dispose(object);
}

static void
aiq_agent_dbus_class_init(AiqAgentDbusClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->get_property = aiq_agent_dbus_get_property;
	object_class->set_property = aiq_agent_dbus_set_property;
	object_class->dispose = aiq_agent_dbus_dispose;

	/**
	 * AiqAgentDbus:allowed-uid:
	 *
	 * Without polkit (a session bus, a private connection), the only user
	 * whose calls to Enroll and TestStep are allowed: by default the
	 * agent's own.
	 */
	props[PROP_ALLOWED_UID] = g_param_spec_uint("allowed-uid",
						    NULL,
						    NULL,
						    0,
						    G_MAXUINT,
						    0,
						    G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
							    G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, props);
}

static void
aiq_agent_dbus_init(AiqAgentDbus *self)
{
	self->allowed_uid = getuid();
	self->skeleton = aiq_dbus_agent1_skeleton_new();
}

/**
 * aiq_agent_dbus_new:
 * @agent: the core to export
 *
 * Mirrors @agent's properties and signals into an io.automateiq.Agent1
 * skeleton; aiq_agent_dbus_start() exports it.
 */
AiqAgentDbus *
aiq_agent_dbus_new(AiqAgent *agent)
{
	AiqAgentDbus *self;

	g_return_val_if_fail(AIQ_IS_AGENT(agent), NULL);

	self = g_object_new(AIQ_TYPE_AGENT_DBUS, NULL);
	self->agent = g_object_ref(agent);
	aiq_agent_dbus_sync_property(self, NULL);
	g_signal_connect(agent, "notify", G_CALLBACK(aiq_agent_dbus_notify_cb), self);
	g_signal_connect(agent,
			 "execution-started",
			 G_CALLBACK(aiq_agent_dbus_execution_started_cb),
			 self);
	g_signal_connect(agent,
			 "execution-finished",
			 G_CALLBACK(aiq_agent_dbus_execution_finished_cb),
			 self);
	g_signal_connect(self->skeleton,
			 "handle-enroll",
			 G_CALLBACK(aiq_agent_dbus_handle_enroll_cb),
			 self);
	g_signal_connect(self->skeleton,
			 "handle-test-step",
			 G_CALLBACK(aiq_agent_dbus_handle_test_step_cb),
			 self);
	return self;
}

/**
 * aiq_agent_dbus_start:
 * @bus_type: %G_BUS_TYPE_SYSTEM (the daemon) or %G_BUS_TYPE_SESSION (development)
 *
 * Connects to the bus on a connection of its own, exports the object at
 * %AIQ_AGENT_DBUS_PATH and owns %AIQ_AGENT_DBUS_NAME without queueing for it.
 * It blocks until the bus has answered, iterating the thread-default main
 * context meanwhile, so it is meant for startup, before the main loop runs.
 * On the system bus Enroll and TestStep are checked with polkit; on the
 * session bus only the agent's own user may call them.
 *
 * Returns: %FALSE with %AIQ_ERROR_CONFLICT when another agent owns the name
 */
gboolean
aiq_agent_dbus_start(AiqAgentDbus *self, GBusType bus_type, GError **error)
{
	g_autoptr(GDBusConnection) connection = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autofree gchar *address = NULL;
	const gchar *where;

	g_return_val_if_fail(AIQ_IS_AGENT_DBUS(self), FALSE);
	g_return_val_if_fail(bus_type == G_BUS_TYPE_SYSTEM || bus_type == G_BUS_TYPE_SESSION,
			     FALSE);
	g_return_val_if_fail(self->connection == NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	/* TRANSLATORS: completes "another agent already owns io.automateiq.Agent1 on %s" */
	where = bus_type == G_BUS_TYPE_SYSTEM ? _("the system bus") : _("the session bus");
	address = g_dbus_address_get_for_bus_sync(bus_type, NULL, &error_local);
	if (address != NULL) {
		connection = g_dbus_connection_new_for_address_sync(
			address,
			G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
				G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
			NULL,
			NULL,
			&error_local);
	}
	if (connection == NULL) {
		g_dbus_error_strip_remote_error(error_local);
		aiq_error_convert(&error_local);
		g_propagate_prefixed_error(error,
					   g_steal_pointer(&error_local),
					   _("cannot connect to %s: "),
					   where);
		return FALSE;
	}
	self->use_polkit = bus_type == G_BUS_TYPE_SYSTEM;
	self->own_connection = TRUE;
	return aiq_agent_dbus_export(self, connection, where, error);
}

/**
 * aiq_agent_dbus_start_on_connection:
 * @connection: a bus connection, or a private peer-to-peer one
 *
 * Exports the object on @connection and, when it is a bus connection, owns
 * %AIQ_AGENT_DBUS_NAME as aiq_agent_dbus_start() does. polkit is not used:
 * only callers with the agent's own uid (#AiqAgentDbus:allowed-uid), as the
 * bus or the peer's credentials tell, may call Enroll and TestStep.
 */
gboolean
aiq_agent_dbus_start_on_connection(AiqAgentDbus *self, GDBusConnection *connection, GError **error)
{
	g_return_val_if_fail(AIQ_IS_AGENT_DBUS(self), FALSE);
	g_return_val_if_fail(G_IS_DBUS_CONNECTION(connection), FALSE);
	g_return_val_if_fail(self->connection == NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	self->use_polkit = FALSE;
	self->own_connection = FALSE;
	/* TRANSLATORS: completes "another agent already owns io.automateiq.Agent1 on %s" */
	return aiq_agent_dbus_export(self, connection, _("this bus"), error);
}

/**
 * aiq_agent_dbus_stop:
 *
 * Gives up the name, unexports the object and cancels the calls in flight,
 * which return %AIQ_ERROR_CANCELLED to their callers. It may be started again.
 */
void
aiq_agent_dbus_stop(AiqAgentDbus *self)
{
	g_return_if_fail(AIQ_IS_AGENT_DBUS(self));

	if (self->cancellable != NULL)
		g_cancellable_cancel(self->cancellable);
	if (self->owner_id != 0) {
		g_bus_unown_name(self->owner_id);
		self->owner_id = 0;
	}
	self->name_state = AIQ_AGENT_DBUS_NAME_NONE;
	if (self->connection != NULL &&
	    g_dbus_interface_skeleton_has_connection(G_DBUS_INTERFACE_SKELETON(self->skeleton),
						     self->connection))
		g_dbus_interface_skeleton_unexport_from_connection(
			G_DBUS_INTERFACE_SKELETON(self->skeleton),
			self->connection);
	if (self->connection != NULL && self->own_connection)
		g_dbus_connection_close(self->connection, NULL, NULL, NULL);
	self->own_connection = FALSE;
	g_clear_object(&self->connection);
}

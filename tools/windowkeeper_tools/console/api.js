// The HTTP API, as the console uses it. Every call carries the agent's bearer token; every error
// comes back as {status: "error", reason, message} (or API Gateway's {message}).

const SETTINGS_KEY = "windowkeeper.console.settings";

export function loadSettings() {
  const defaults = window.WINDOWKEEPER_CONFIG || {};
  let stored = {};
  try {
    stored = JSON.parse(localStorage.getItem(SETTINGS_KEY) || "{}");
  } catch {
    stored = {};
  }
  return {
    apiBaseUrl: stored.apiBaseUrl ?? defaults.apiBaseUrl ?? "",
    token: stored.token || "",
    pollSeconds: Number(defaults.pollSeconds || 5),
  };
}

export function saveSettings(settings) {
  localStorage.setItem(
    SETTINGS_KEY,
    JSON.stringify({ apiBaseUrl: settings.apiBaseUrl, token: settings.token }),
  );
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.reason = (body && body.reason) || (status === 401 ? "unauthorized" : "http_error");
    this.body = body;
  }
}

export class Api {
  constructor(settings) {
    this.base = (settings.apiBaseUrl || "").replace(/\/$/, "");
    this.token = settings.token;
  }

  async request(method, path, body, extraHeaders = {}) {
    const headers = { Accept: "application/json", ...extraHeaders };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let parsed = null;
    const text = await response.text();
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = { message: text };
      }
    }
    // Refusals (409, with a decision) and "delivery unknown" (502) are answers, not failures.
    const answered = parsed && (parsed.decision || parsed.status === "unknown");
    if (!response.ok && !answered) throw new ApiError(response.status, parsed);
    return { httpStatus: response.status, ...parsed };
  }

  contactPath(c) {
    const parts = [c.channel, c.account_id, c.contact_id].map(encodeURIComponent);
    return `/v1/contacts/${parts.join("/")}`;
  }

  // One page of the inbox: { channel, sort, q, cursor, limit } (empty ones left out).
  conversations({ channel = "", sort = "recent", q = "", cursor = "", limit = 20 } = {}) {
    const query = new URLSearchParams({ limit: String(limit), sort });
    if (channel) query.set("channel", channel);
    if (q) query.set("q", q);
    if (cursor) query.set("cursor", cursor);
    return this.request("GET", `/v1/conversations?${query}`);
  }
  accounts() { return this.request("GET", "/v1/accounts"); }
  contact(c) { return this.request("GET", this.contactPath(c)); }
  messages(c) { return this.request("GET", `${this.contactPath(c)}/messages?limit=100`); }
  handover(c, to) { return this.request("POST", `${this.contactPath(c)}/handover`, { to }); }
  check(message) { return this.request("POST", "/v1/messages/check", message); }
  // One key per composed message: sending it again after a timeout or an "unknown" answer
  // replays the first answer instead of reaching the customer twice.
  send(message, idempotencyKey) {
    return this.request("POST", "/v1/messages", message, { "Idempotency-Key": idempotencyKey });
  }
  followup(body) { return this.request("POST", "/v1/followups", body); }
  cancelFollowup(followupId) {
    return this.request("DELETE", `/v1/followups/${encodeURIComponent(followupId)}`);
  }
  // scope: all | marketing | outside_window; action: opt_out | opt_in (agents only, else 403).
  consent(c, scope, action, note) {
    return this.request("POST", `${this.contactPath(c)}/consent`, { scope, action, note: note || null });
  }
  decisions(c, cursor, limit = 20) {
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor) query.set("cursor", cursor);
    return this.request("GET", `${this.contactPath(c)}/decisions?${query}`);
  }
}

// The agent console: conversations with their window state, messages both ways, a composer that
// asks the policy engine (POST /v1/messages/check) what would happen before anything is sent.
// Plain DOM, textContent only (message text is customer input and is never parsed as HTML).
// Below the composer: pending follow-ups (cancel), consent per scope (record a change the customer
// asked for by phone) and the decision history (the audit trail, loaded only when opened).

import { Api, ApiError, loadSettings, saveSettings } from "./api.js";
import { SignIn, claimsOf } from "./auth.js";
import { NoticesPanel } from "./notices.js";
import { countdown, debounce, localTime, relative } from "./time.js";

const STATE_LABELS = {
  open: "Open",
  closing_soon: "Closing soon",
  human_agent_only: "Human agent only",
  template_only: "Template only",
  expired: "Expired",
  opted_out: "Opted out",
  unreachable: "Unreachable",
};
const PATH_LABELS = {
  free_form: "a normal reply (inside the 24-hour window)",
  human_agent: "the HUMAN_AGENT tag (a person, up to 7 days)",
  message_tag: "a message tag",
  customer_feedback: "a customer feedback template",
  utility_template: "a utility template",
  authentication_template: "an authentication template",
  marketing_template: "a marketing template",
  marketing_message: "a marketing message (opt-in)",
  private_reply: "a private reply to a comment",
  plus_one: "the 24+1 follow-up",
  bot_initiated: "a bot-initiated message",
  direct: "a direct message",
};
const TEMPLATE_PATHS = new Set(["utility_template", "marketing_template", "authentication_template"]);
// The template category each template path sends, so an option can pick a template of its kind.
const TEMPLATE_CATEGORY = { utility_template: "UTILITY", marketing_template: "MARKETING", authentication_template: "AUTHENTICATION" };
// The tag each tag path applies in the composer (one click on the option).
const PATH_TAGS = { human_agent: "HUMAN_AGENT" };
const CONVERSATIONS_PAGE = 50; // as many as the list showed before paging
const CHANNEL_LABELS = {
  messenger: "Messenger",
  instagram: "Instagram",
  whatsapp: "WhatsApp",
  viber: "Viber",
  telegram: "Telegram",
  line: "LINE",
  wechat: "WeChat",
  sms: "SMS",
  email: "E-mail",
  webchat: "Web chat",
};
const META_CHANNELS = new Set(["messenger", "instagram", "whatsapp"]);
// Who delivers on a channel: Meta for its three, the platform itself for the others.
const platformOf = (channel) => (META_CHANNELS.has(channel) ? "Meta" : CHANNEL_LABELS[channel] || channel);
const SCOPE_LABELS = { all: "All messages", marketing: "Marketing", outside_window: "Outside the reply window" };
const ACTION_LABELS = { opt_out: "opt-out", opt_in: "opt-in" };
const OUTCOME_LABELS = {
  sent: "Sent",
  refused: "Refused",
  failed: "Failed at the platform",
  unknown: "Delivery unknown",
  allowed: "Allowed",
  forbidden: "Blocked (another tenant)",
  recorded: "Consent recorded",
  unchanged: "Consent unchanged",
};
const OUTCOME_TONE = { sent: "ok", allowed: "ok", recorded: "ok", refused: "bad", failed: "bad", forbidden: "bad" };

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("aria-") || key === "role") node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
};
const keyOf = (c) => `${c.channel}/${c.account_id}/${c.contact_id}`;

const state = {
  settings: loadSettings(),
  api: null,
  accounts: new Map(),
  conversations: [],
  selected: null,
  contact: null,
  messageIds: new Set(),
  lastCheckKey: "",
  polling: false,
  pendingSend: null, // { fingerprint, key }: the Idempotency-Key of the message being sent
  followupsKey: "", // what the follow-up list shows, so a poll does not rebuild it (and steal focus)
  consentKey: "",
  history: { key: "", cursor: null, loading: false, generation: 0 },
  identity: 0, // bumped when the user or tenant changes: answers for an earlier one are dropped
  timers: [],
};
const signIn = new SignIn((window.WINDOWKEEPER_CONFIG || {}).auth);

function announce(text) {
  $("status").textContent = text;
}

function describeError(error) {
  if (error instanceof ApiError && error.status === 401) {
    return signIn.enabled
      ? "Your sign-in was refused (expired or not for this API). Sign in again."
      : "Your token was refused (expired or not for this API). Open Settings and paste a new one.";
  }
  return error instanceof ApiError ? `${error.message} (${error.reason})` : `Network error: ${error.message}`;
}

// --- settings ------------------------------------------------------------------------------------
function initSettings() {
  $("api-base").value = state.settings.apiBaseUrl;
  $("api-token").value = state.settings.token;
  if (!state.settings.token && !signIn.enabled) $("settings").open = true;
  $("settings-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.settings.apiBaseUrl = $("api-base").value.trim();
    state.settings.token = $("api-token").value.trim();
    saveSettings(state.settings);
    $("settings").open = false;
    connect();
  });
}

function whoami(token) {
  const claims = claimsOf(token);
  if (!claims.sub) return "";
  const groups = String(claims["cognito:groups"] || "");
  const name = claims.name || claims.email ? `${claims.name || claims.email} · ` : "";
  return `Signed in as ${name}${claims.sub} (${claims["custom:tenant_id"]}, ${groups.includes("agents") ? "agent" : "automation"})`;
}

function renderSignIn() {
  const signedIn = Boolean(state.settings.token);
  $("sign-in").hidden = !signIn.enabled || signedIn;
  $("sign-out").hidden = !signedIn;
}

// A new user or tenant: nothing the previous one saw stays on screen or keeps polling.
function forgetPreviousUser() {
  state.identity += 1;
  stopPolling();
  state.accounts = new Map();
  state.conversations = [];
  state.extraConversations = [];
  state.nextCursor = null;
  state.selected = null;
  state.contact = null;
  state.messageIds = new Set();
  state.lastCheckKey = "";
  state.pendingSend = null;
  state.followupsKey = "";
  state.consentKey = "";
  resetHistory();
  for (const id of ["messages", "verdict", "options", "followups", "consent-scopes", "template", "template-params", "template-body"]) {
    $(id).replaceChildren();
  }
  $("message-text").value = "";
  $("consent-extra").textContent = "";
  $("consent-result").textContent = "";
  $("detail").hidden = true;
  $("no-selection").hidden = false;
  $("history").open = false;
  renderList();
  state.notices.reset();
}

async function connect() {
  forgetPreviousUser();
  state.api = new Api(state.settings);
  const identity = state.identity;
  $("whoami").textContent = whoami(state.settings.token);
  renderSignIn();
  if (!state.settings.token) {
    announce(signIn.enabled ? "Sign in to start." : "Paste a token in Settings to start.");
    return;
  }
  startPolling();
  try {
    const answer = await state.api.accounts();
    if (identity !== state.identity) return;
    state.accounts = new Map(answer.accounts.map((a) => [`${a.channel}/${a.account_id}`, a]));
    announce(`Connected: ${answer.accounts.length} accounts.`);
  } catch (error) {
    announce(describeError(error));
    return;
  }
  await refresh();
}

// --- conversation list ---------------------------------------------------------------------------
function closingInstant(conversation) {
  const windows = conversation.windows || {};
  if (conversation.state === "human_agent_only") return windows.human_agent_closes_at;
  return windows.free_form_closes_at;
}

// The newest message either way, one line: "You: ..." for ours, the kind when it has no text.
function previewLine(message) {
  if (!message) return "No messages yet";
  const text = message.text || `(${message.kind || "message"})`;
  return message.direction === "out" ? `You: ${text}` : text;
}

function listFilters() {
  return {
    channel: $("channel-filter").value,
    sort: $("conversation-sort").value,
    q: $("conversation-search").value.trim(),
  };
}

// A new search, sort or channel starts the list over; polling refreshes the first page and keeps
// the pages loaded with "Load more" below it.
async function reloadList() {
  // Answers to requests made for the list before this (a page, a "Load more") are dropped.
  state.listGeneration = (state.listGeneration || 0) + 1;
  state.conversations = [];
  state.extraConversations = [];
  state.nextCursor = null;
  await refresh();
}

async function loadMoreConversations() {
  if (!state.nextCursor) return;
  const button = $("load-more-conversations");
  button.disabled = true;
  const generation = state.listGeneration;
  try {
    const answer = await state.api.conversations({ ...listFilters(), cursor: state.nextCursor, limit: CONVERSATIONS_PAGE });
    if (generation !== state.listGeneration) return; // the search, sort or channel changed meanwhile
    const known = new Set(state.conversations.map(keyOf));
    const more = (answer.conversations || []).filter((c) => !known.has(keyOf(c)));
    state.extraConversations = [...(state.extraConversations || []), ...more];
    state.conversations = [...state.conversations, ...more];
    state.nextCursor = answer.next_cursor || null;
    renderList();
    announce(`${more.length} more conversation${more.length === 1 ? "" : "s"} loaded.`);
  } catch (error) {
    announce(describeError(error));
  } finally {
    button.disabled = false;
  }
}

function renderList() {
  const list = $("conversation-list");
  const focusedKey = document.activeElement?.dataset?.key;
  list.replaceChildren();
  $("list-empty").hidden = state.conversations.length > 0;
  $("list-empty").textContent = listFilters().q
    ? "No conversation matches this search."
    : "No conversations yet. When a customer writes, it shows here.";
  $("load-more-conversations").hidden = !state.nextCursor;
  for (const conversation of state.conversations) {
    const key = keyOf(conversation);
    const selected = state.selected && keyOf(state.selected) === key;
    const instant = closingInstant(conversation);
    const prefix = conversation.state === "human_agent_only" ? "Human agent: " : "Reply window: ";
    const owner = conversation.owner?.owner === "human" ? `Handled by ${conversation.owner.agent_id || "an agent"}` : "Handled by the bot";
    const button = el(
      "button",
      { type: "button", class: "conversation", dataset: { key } },
      el("span", { class: "name" }, conversation.display_name || conversation.contact_id),
      el("span", { class: `channel channel-${conversation.channel}` }, CHANNEL_LABELS[conversation.channel] || conversation.channel),
      el("span", { class: `badge state-${conversation.state}` }, STATE_LABELS[conversation.state] || conversation.state),
      el("span", { class: "countdown", dataset: instant ? { instant, prefix } : {} }, instant ? `${prefix}${countdown(instant)}` : ""),
      el("span", { class: "owner-mini subtle" }, owner),
      el("span", { class: "preview subtle" }, previewLine(conversation.last_message)),
    );
    if (selected) button.setAttribute("aria-current", "true");
    button.addEventListener("click", () => select(conversation));
    list.append(el("li", {}, button));
    if (focusedKey === key) button.focus();
  }
}

// --- one conversation ----------------------------------------------------------------------------
async function select(conversation) {
  state.selected = { channel: conversation.channel, account_id: conversation.account_id, contact_id: conversation.contact_id };
  state.messageIds = new Set();
  state.lastCheckKey = "";
  state.followupsKey = "";
  state.consentKey = "";
  $("message-text").value = "";
  $("tag").value = "";
  $("consent-note").value = "";
  $("consent-result").textContent = "";
  setMode("text");
  resetHistory();
  $("no-selection").hidden = true;
  $("detail").hidden = false;
  renderList();
  await refreshDetail(true);
  renderTemplates();
  $("message-text").focus();
  scheduleCheck();
  if ($("history").open) loadHistory(true);
}

async function refreshDetail(first = false) {
  if (!state.selected) return;
  const selected = state.selected;
  const identity = state.identity;
  try {
    const [contact, messages] = await Promise.all([state.api.contact(selected), state.api.messages(selected)]);
    if (identity !== state.identity || !state.selected || keyOf(state.selected) !== keyOf(selected)) return;
    const previous = state.contact;
    state.contact = contact;
    renderDetail();
    renderMessages(messages.messages || [], first);
    if (previous && previous.state !== contact.state) {
      announce(`This conversation is now: ${STATE_LABELS[contact.state] || contact.state}.`);
      state.lastCheckKey = "";
      scheduleCheck();
    }
  } catch (error) {
    announce(describeError(error));
  }
}

function renderDetail() {
  const contact = state.contact;
  const c = contact.contact;
  const account = state.accounts.get(`${c.channel}/${c.account_id}`);
  $("detail-title").textContent = c.display_name || c.contact_id;
  $("detail-meta").textContent = `${CHANNEL_LABELS[c.channel] || c.channel} · ${account?.display_name || c.account_id} · ${c.contact_id}`;
  const badge = $("detail-state");
  badge.textContent = STATE_LABELS[contact.state] || contact.state;
  badge.className = `badge state-${contact.state}`;

  const windows = contact.windows || {};
  const lines = [];
  if (windows.free_form_closes_at) lines.push(["Reply window", windows.free_form_closes_at]);
  if (windows.human_agent_closes_at) lines.push(["Human agent window", windows.human_agent_closes_at]);
  $("detail-windows").replaceChildren(
    ...lines.map(([label, instant]) =>
      el("span", { class: "window" }, `${label}: `, el("span", { class: "countdown", dataset: { instant } }, countdown(instant)))),
  );

  const owner = contact.owner || {};
  const human = owner.owner === "human";
  $("detail-owner").textContent = human
    ? `Handled by ${owner.agent_id || "an agent"}${owner.returns_to_bot_at ? ` (back to the bot ${localTime(owner.returns_to_bot_at)} if idle)` : ""}`
    : "Handled by the bot";
  $("take-over").hidden = human;
  $("give-back").hidden = !human;

  renderFollowups(contact.pending_followups || []);
  renderConsent(contact.consent || {});
  renderAccountHealth(account);
}

// What Meta last said about the account (GET /v1/accounts): a rejected token or Meta's block
// refuses every send of the account until fixed, so the agent is told before typing.
function renderAccountHealth(account) {
  const health = account?.health;
  const alert = $("account-health");
  if (!health || health.status === "ok") {
    alert.hidden = true;
    alert.textContent = "";
    return;
  }
  const since = health.since ? `Since ${localTime(health.since)}: ` : "";
  alert.textContent = `${since}${health.what_to_do}`;
  alert.hidden = false;
}

function renderMessages(messages, first) {
  const list = $("messages");
  let newInbound = 0;
  for (const message of messages) {
    if (!first && !state.messageIds.has(message.message_id) && message.direction === "in") newInbound += 1;
  }
  state.messageIds = new Set(messages.map((m) => m.message_id));
  list.replaceChildren(
    ...messages.map((m) => {
      const who = m.direction === "in" ? "Customer" : m.sender === "bot" ? "Bot" : m.sender.replace(/^human:/, "Agent ");
      const via = m.path ? ` · via ${m.path}` : "";
      const status = m.status ? ` · ${m.status}` : "";
      return el(
        "li",
        { class: `message ${m.direction === "in" ? "inbound" : "outbound"}` },
        el("p", { class: "message-meta" }, `${who} · ${localTime(m.at)}${via}${status}`),
        el("p", { class: "message-text" }, m.text ?? `[${m.kind}]`),
      );
    }),
  );
  if (newInbound > 0) announce(`${newInbound} new message${newInbound > 1 ? "s" : ""} from the customer.`);
  list.scrollTop = list.scrollHeight;
}

// --- composer ------------------------------------------------------------------------------------
function mode() {
  return document.querySelector('input[name="mode"]:checked').value;
}

function setMode(value) {
  document.querySelector(`input[name="mode"][value="${value}"]`).checked = true;
  $("text-fields").hidden = value !== "text";
  $("template-fields").hidden = value !== "template";
}

function currentAccount() {
  return state.selected ? state.accounts.get(`${state.selected.channel}/${state.selected.account_id}`) : null;
}

function renderTemplates() {
  const select = $("template");
  const templates = currentAccount()?.templates || [];
  select.replaceChildren(
    ...templates.map((t, index) =>
      el(
        "option",
        { value: String(index), disabled: t.status !== "APPROVED" },
        `${t.name} (${t.language}, ${t.category.toLowerCase()}${t.status !== "APPROVED" ? `, ${t.status.toLowerCase()}` : ""})`,
      )),
  );
  const firstApproved = templates.findIndex((t) => t.status === "APPROVED");
  if (firstApproved >= 0) select.value = String(firstApproved);
  renderTemplateParams();
}

function selectedTemplate() {
  const templates = currentAccount()?.templates || [];
  return templates[Number($("template").value)] || null;
}

function renderTemplateParams() {
  const template = selectedTemplate();
  const box = $("template-params");
  box.replaceChildren();
  for (const [index, name] of (template?.parameters || []).entries()) {
    const id = `template-param-${index}`;
    box.append(
      el("label", { htmlFor: id }, `{{${index + 1}}} ${name.replace(/_/g, " ")}`),
      el("input", { id, type: "text", dataset: { param: String(index) } }),
    );
  }
  box.querySelectorAll("input").forEach((input) => input.addEventListener("input", () => { renderTemplatePreview(); scheduleCheck(); }));
  renderTemplatePreview();
}

// The approved body with {{n}} replaced by what the agent typed; an empty one shows its name.
function renderTemplatePreview() {
  const template = selectedTemplate();
  const preview = $("template-body");
  if (!template) {
    preview.replaceChildren("This account has no templates.");
    return;
  }
  if (!template.body) {
    preview.replaceChildren(el("span", { class: "subtle" }, `No body text on record for ${template.name}.`));
    return;
  }
  const values = [...$("template-params").querySelectorAll("input")].map((i) => i.value.trim());
  const names = template.parameters || [];
  const parts = [];
  let last = 0;
  for (const match of template.body.matchAll(/\{\{\s*(\d+)\s*\}\}/g)) {
    parts.push(template.body.slice(last, match.index));
    const position = Number(match[1]);
    const value = values[position - 1];
    const name = (names[position - 1] || `parameter ${position}`).replace(/_/g, " ");
    parts.push(value ? el("mark", { class: "filled" }, value) : el("span", { class: "unfilled" }, `[${name}]`));
    last = match.index + match[0].length;
  }
  parts.push(template.body.slice(last));
  preview.replaceChildren(...parts);
}

function composedMessage() {
  if (!state.selected) return null;
  const base = { ...state.selected };
  if (mode() === "template") {
    const template = selectedTemplate();
    if (!template) return null;
    const parameters = [...$("template-params").querySelectorAll("input")].map((i) => i.value.trim() || "…");
    return { ...base, content: { type: "template", template: { name: template.name, language: template.language, parameters } } };
  }
  const text = $("message-text").value.trim();
  if (!text) return null;
  const message = { ...base, content: { type: "text", text } };
  if ($("tag").value) message.tag = $("tag").value;
  return message;
}

async function runCheck() {
  const message = composedMessage();
  const verdict = $("verdict");
  if (!message) {
    verdict.replaceChildren(el("p", { class: "subtle" }, mode() === "text" ? "Type a message to see whether and how it can go." : "Pick a template."));
    setSendable(false);
    $("options").replaceChildren();
    $("options-title").hidden = true;
    return;
  }
  const checkKey = JSON.stringify(message);
  if (checkKey === state.lastCheckKey) return;
  state.lastCheckKey = checkKey;
  try {
    const answer = await state.api.check(message);
    if (checkKey !== state.lastCheckKey) return; // a newer check is on its way
    renderVerdict(answer.decision);
  } catch (error) {
    verdict.replaceChildren(el("p", { class: "refused" }, describeError(error)));
    setSendable(false);
  }
}
const scheduleCheck = debounce(runCheck, 350);

// Send is offered only when the last check said the message can go.
function setSendable(allowed) {
  state.sendable = allowed;
  const button = $("send");
  button.disabled = !allowed;
  button.title = allowed ? "" : "This message cannot go as it is: see why above the options.";
}

function renderVerdict(decision) {
  const verdict = $("verdict");
  verdict.dataset.allowed = String(decision.allowed);
  setSendable(Boolean(decision.allowed));
  if (decision.allowed) {
    verdict.replaceChildren(
      el("p", { class: "allowed" }, el("strong", {}, "Can go "), `as ${PATH_LABELS[decision.path] || decision.path}.`),
      el("p", { class: "subtle" }, decision.explanation),
    );
    // The engine picked a tag the composer does not show yet: one click makes it explicit.
    const action = oneClick({ path: decision.path, allowed_now: true });
    if (action && PATH_TAGS[decision.path]) {
      verdict.append(el("button", { type: "button", class: "secondary one-click", onclick: action.run }, action.label));
    }
  } else {
    verdict.replaceChildren(
      el("p", { class: "refused" }, el("strong", {}, "Cannot go. "), decision.explanation || "The policy refused it."),
    );
  }
  renderOptions(decision);
}

function renderOptions(decision) {
  const list = $("options");
  list.replaceChildren();
  // Inside the window there is nothing to weigh; outside it the agent sees every way there is.
  const show = !(decision.allowed && decision.path === "free_form") && (decision.options || []).length > 0;
  $("options-title").hidden = !show;
  if (!show) return;
  const seen = new Set();
  for (const option of decision.options || []) {
    if (seen.has(option.path)) continue;
    seen.add(option.path);
    const when = option.allowed_now
      ? option.closes_at ? `available now, ${countdown(option.closes_at)}` : "available now"
      : option.opens_at ? `opens ${localTime(option.opens_at)}` : "not available";
    const item = el("li", { class: option.allowed_now ? "option open" : "option closed" },
      el("span", {}, `${PATH_LABELS[option.path] || option.path}: ${when}${option.needs ? ` — needs ${option.needs}` : ""}`));
    if (option.allowed_now) {
      const action = oneClick(option);
      if (action) item.append(el("button", { type: "button", class: "secondary one-click", onclick: action.run }, action.label));
    }
    list.append(item);
  }
}

// What one click on an open option does: apply the tag it names (also when the engine would pick
// it anyway: the agent makes it explicit), or fill the composer with an approved template of the
// category it names (name, language, parameter inputs). Nothing when the composer already does.
function oneClick(option) {
  const tag = PATH_TAGS[option.path];
  if (tag && mode() === "text" && $("tag").value !== tag) {
    return { label: `Apply the ${tag} tag`, run: () => applyTag(tag) };
  }
  const category = TEMPLATE_CATEGORY[option.path];
  if (!category) return null;
  const templates = currentAccount()?.templates || [];
  const index = templates.findIndex((t) => t.category === category && t.status === "APPROVED");
  if (index < 0) return null;
  if (mode() === "template" && Number($("template").value) === index) return null;
  return { label: `Use template ${templates[index].name}`, run: () => useTemplate(index) };
}

function applyTag(tag) {
  $("tag").value = tag;
  state.lastCheckKey = "";
  scheduleCheck();
  announce(`The ${tag} tag is applied.`);
  $("tag").focus();
}

function useTemplate(index) {
  setMode("template");
  renderTemplates();
  $("template").value = String(index);
  renderTemplateParams();
  state.lastCheckKey = "";
  scheduleCheck();
  const firstParam = $("template-params").querySelector("input");
  (firstParam || $("template")).focus();
}

async function send(event) {
  event.preventDefault();
  const message = composedMessage();
  if (!message) {
    announce(mode() === "text" ? "Type a message first." : "Pick a template first.");
    return;
  }
  const emptyParam = mode() === "template" && [...$("template-params").querySelectorAll("input")].find((i) => !i.value.trim());
  if (emptyParam) {
    announce("Fill in every template parameter before sending.");
    emptyParam.focus();
    return;
  }
  const button = $("send");
  button.disabled = true;
  try {
    const fingerprint = JSON.stringify(message);
    if (!state.pendingSend || state.pendingSend.fingerprint !== fingerprint) {
      state.pendingSend = { fingerprint, key: crypto.randomUUID() };
    }
    const answer = await state.api.send(message, state.pendingSend.key);
    const decision = answer.decision || {};
    if (answer.status !== "unknown") state.pendingSend = null;
    if (answer.status === "sent") {
      announce(`Delivered to ${platformOf(message.channel)} as ${PATH_LABELS[decision.path] || decision.path}.`);
      $("message-text").value = "";
      state.lastCheckKey = "";
      await refreshDetail();
      runCheck();
      refreshHistoryIfOpen();
    } else if (answer.status === "refused") {
      announce(`Not sent. ${decision.explanation || "The policy refused it."}`);
      renderVerdict(decision);
      refreshHistoryIfOpen();
    } else if (answer.status === "unknown") {
      // Meta may have delivered it: pressing Send again replays this answer, never a second copy.
      announce(`${platformOf(message.channel)} did not confirm this message: it may or may not have reached the customer. ` +
        "It was not sent twice; check the conversation before writing again.");
      await refreshDetail();
    } else {
      announce(`Not sent: ${answer.message || answer.reason || answer.status}.`);
    }
  } catch (error) {
    announce(describeError(error));
  } finally {
    button.disabled = !state.sendable;
  }
}

async function handover(to) {
  try {
    await state.api.handover(state.selected, to);
    announce(to === "human" ? "You now handle this conversation; the bot stays quiet." : "The bot handles this conversation again.");
    await refreshDetail();
    refresh(); // the list's owner column too (skipped if a poll is already under way)
    (to === "human" ? $("give-back") : $("take-over")).focus();
  } catch (error) {
    announce(describeError(error));
  }
}

async function scheduleFollowup(event) {
  event.preventDefault();
  const local = $("followup-at").value;
  const text = $("followup-text").value.trim();
  if (!local || !text) return;
  const body = {
    ...state.selected,
    send_at: new Date(local).toISOString(),
    content: { type: "text", text },
    purpose: $("followup-purpose").value,
  };
  try {
    const answer = await state.api.followup(body);
    const preview = answer.preview;
    const reasons = preview?.decision?.reasons || [];
    const note = preview && !preview.allowed ? ` Note: as things stand it would be refused (${reasons.join(", ")}); it is checked again when it fires.` : "";
    announce(`Follow-up scheduled for ${localTime(body.send_at)}.${note}`);
    $("followup-text").value = "";
    state.followupsKey = "";
    await refreshDetail();
  } catch (error) {
    announce(describeError(error));
  }
}

// --- pending follow-ups --------------------------------------------------------------------------
function renderFollowups(followups) {
  const fingerprint = JSON.stringify(followups);
  if (fingerprint === state.followupsKey) return;
  state.followupsKey = fingerprint;
  const focusedId = document.activeElement?.dataset?.followupId;
  const list = $("followups");
  list.replaceChildren(
    ...followups.map((f) => {
      const when = localTime(f.send_at);
      const details = [
        f.purpose ? `Purpose: ${f.purpose.replace(/_/g, " ")}` : null,
        f.tag ? `tag ${f.tag}` : null,
        f.has_fallback ? "template fallback if refused" : null,
        f.cancel_if_customer_replied ? "skipped if the customer writes first" : "sent even if the customer writes",
      ].filter(Boolean).join(" · ");
      const cancel = el("button", {
        type: "button",
        class: "secondary",
        dataset: { followupId: f.followup_id },
        "aria-label": `Cancel the follow-up of ${when}`,
      }, "Cancel");
      cancel.addEventListener("click", () => cancelFollowup(f, cancel));
      return el(
        "li",
        { class: "followup-item" },
        el(
          "div",
          {},
          el("p", {}, el("strong", {}, `Fires ${when} `), el("span", { class: "relative", dataset: { instant: f.send_at } }, `(${relative(f.send_at)})`)),
          el("p", { class: "subtle" }, details),
        ),
        cancel,
      );
    }),
  );
  $("followups-empty").hidden = followups.length > 0;
  if (focusedId) list.querySelector(`button[data-followup-id="${CSS.escape(focusedId)}"]`)?.focus();
}

async function cancelFollowup(followup, button) {
  button.disabled = true;
  try {
    await state.api.cancelFollowup(followup.followup_id);
    announce(`Follow-up of ${localTime(followup.send_at)} cancelled.`);
    state.followupsKey = "";
    await refreshDetail();
    // The button is gone: keep the keyboard user in the list (or on the form to schedule one).
    const next = $("followups").querySelector("button");
    (next || $("followup-details").querySelector("summary")).focus();
  } catch (error) {
    announce(describeError(error));
    button.disabled = false;
  }
}

// --- consent -------------------------------------------------------------------------------------
function renderConsent(consent) {
  const fingerprint = JSON.stringify(consent);
  if (fingerprint === state.consentKey) return;
  state.consentKey = fingerprint;
  const optedOut = consent.opted_out || {};
  $("consent-scopes").replaceChildren(
    ...Object.entries(SCOPE_LABELS).flatMap(([scope, label]) => [
      el("dt", {}, label),
      el("dd", { class: optedOut[scope] ? "consent-out" : "consent-in", dataset: { scope } }, optedOut[scope] ? "Opted out" : "Not opted out"),
    ]),
  );
  const extra = [];
  if (consent.consent_on_record) extra.push("Consent on record (SMS, e-mail).");
  for (const optIn of consent.marketing_opt_ins || []) {
    extra.push(`Marketing opt-in${optIn.purpose ? ` for ${optIn.purpose}` : ""} since ${localTime(optIn.opted_in_at)}.`);
  }
  if (consent.changed_at) extra.push(`Last changed ${localTime(consent.changed_at)}.`);
  $("consent-extra").textContent = extra.join(" ");
}

async function recordConsent(event) {
  event.preventDefault();
  const scope = $("consent-scope").value;
  const action = document.querySelector('input[name="consent-action"]:checked').value;
  const result = $("consent-result");
  const button = event.submitter || $("consent-form").querySelector("button");
  button.disabled = true;
  result.className = "form-result";
  result.textContent = "Recording…";
  try {
    const answer = await state.api.consent(state.selected, scope, action, $("consent-note").value.trim());
    const what = `${ACTION_LABELS[action]} of ${SCOPE_LABELS[scope].toLowerCase()}`;
    result.textContent = answer.changed ? `Recorded the ${what}.` : `Nothing to change: the ${what} was already on record.`;
    result.className = "form-result ok";
    $("consent-note").value = "";
    if (answer.consent && state.contact) {
      state.contact.consent = answer.consent;
      renderConsent(answer.consent);
    }
    state.lastCheckKey = ""; // the composer's verdict may have changed with it
    scheduleCheck();
    await refreshDetail();
    refreshHistoryIfOpen();
  } catch (error) {
    // A 403 carries the API's own sentence (e.g. an opt-in needs a human agent): show it as is.
    result.textContent = describeError(error);
    result.className = "form-result refused";
  } finally {
    button.disabled = false;
  }
}

// --- decision history ----------------------------------------------------------------------------
function resetHistory() {
  // A new generation: an answer to an earlier load (another conversation, or a reload) is dropped.
  const generation = (state.history.generation || 0) + 1;
  state.history = { key: state.selected ? keyOf(state.selected) : "", cursor: null, loading: false, generation };
  $("history-list").replaceChildren();
  $("history-empty").hidden = true;
  $("history-more").hidden = true;
  $("history-status").textContent = "";
}

function refreshHistoryIfOpen() {
  if ($("history").open) loadHistory(true);
}

async function loadHistory(reset) {
  if (!state.selected) return;
  const selected = state.selected;
  if (reset) resetHistory();
  else if (state.history.loading || !state.history.cursor) return;
  state.history.loading = true;
  const generation = state.history.generation;
  const more = $("history-more");
  more.disabled = true;
  $("history-status").textContent = "Loading decisions…";
  try {
    const page = await state.api.decisions(selected, reset ? null : state.history.cursor);
    if (state.history.generation !== generation || state.history.key !== keyOf(selected)) return;
    const list = $("history-list");
    const before = list.children.length;
    list.append(...(page.decisions || []).map(renderDecision));
    state.history.cursor = page.next_cursor || null;
    more.hidden = !state.history.cursor;
    $("history-empty").hidden = list.children.length > 0;
    const shown = list.children.length;
    $("history-status").textContent = shown === 0 ? "" :
      `${shown} decision${shown === 1 ? "" : "s"} shown${state.history.cursor ? "" : ", that is all"}.`;
    // "Load more" pressed and now gone: put focus on the first new entry, not on the page's top.
    if (!reset && more.hidden && list.children[before]) list.children[before].focus();
  } catch (error) {
    $("history-status").textContent = describeError(error);
  } finally {
    if (state.history.generation === generation) state.history.loading = false;
    more.disabled = false;
  }
}

function who(entry) {
  if (entry.principal_kind === "human") return `Agent ${entry.principal_subject}`;
  const kind = entry.automation_kind || "automation";
  return `${kind[0].toUpperCase()}${kind.slice(1)} ${entry.principal_subject}`;
}

function renderDecision(entry) {
  const outcome = OUTCOME_LABELS[entry.outcome] || entry.outcome;
  let summary;
  if (entry.kind === "consent") {
    summary = (entry.reasons || []).map((r) => {
      const [action, scope] = r.split(":");
      return `${ACTION_LABELS[action] || action} of ${(SCOPE_LABELS[scope] || scope || "").toLowerCase()}`;
    }).join(", ");
  } else if (entry.path && entry.allowed !== false) {
    summary = `via ${PATH_LABELS[entry.path] || entry.path}`;
  } else {
    summary = (entry.reasons || []).length ? `reasons: ${entry.reasons.join(", ")}` : "";
  }
  const extras = [
    entry.template_name ? `template ${entry.template_name}` : null,
    entry.tag ? `tag ${entry.tag}` : null,
    entry.purpose ? `purpose ${entry.purpose.replace(/_/g, " ")}` : null,
    entry.graph_error ? `Meta error ${entry.graph_error.code ?? ""}${entry.graph_error.message ? `: ${entry.graph_error.message}` : ""}` : null,
  ].filter(Boolean).join(" · ");
  return el(
    "li",
    { class: "decision", tabIndex: -1 },
    el(
      "p",
      { class: "decision-head" },
      el("span", { class: `badge outcome-${OUTCOME_TONE[entry.outcome] || "neutral"}` }, outcome),
      ` ${localTime(entry.at)} · ${who(entry)}${summary ? ` · ${summary}` : ""}`,
    ),
    extras ? el("p", { class: "subtle" }, extras) : null,
    entry.explanation ? el("p", { class: "decision-explanation" }, entry.explanation) : null,
  );
}

// --- polling and ticking -------------------------------------------------------------------------
async function refresh() {
  if (!state.api || !state.settings.token || state.polling) return;
  state.polling = true;
  const identity = state.identity;
  const filtersKey = JSON.stringify(listFilters());
  const generation = state.listGeneration;
  let again = false;
  try {
    const [answer, accounts] = await Promise.all([
      state.api.conversations({ ...listFilters(), limit: CONVERSATIONS_PAGE }),
      state.api.accounts(), // their health can change at any time (a token rejected, a Page blocked)
    ]);
    if (identity !== state.identity) return;
    if (JSON.stringify(listFilters()) !== filtersKey || generation !== state.listGeneration) {
      again = true; // the search, sort or channel changed while this page was on its way
      return;
    }
    state.accounts = new Map(accounts.accounts.map((a) => [`${a.channel}/${a.account_id}`, a]));
    const first = answer.conversations || [];
    const onFirst = new Set(first.map(keyOf));
    const extra = (state.extraConversations || []).filter((c) => !onFirst.has(keyOf(c)));
    state.extraConversations = extra;
    state.conversations = [...first, ...extra];
    if (!extra.length) state.nextCursor = answer.next_cursor || null;
    renderList();
    await refreshDetail();
  } catch (error) {
    announce(describeError(error));
  } finally {
    state.polling = false;
  }
  if (again) await reloadList();
}

const notices = new NoticesPanel($("notices"), (window.WINDOWKEEPER_CONFIG || {}).eventsPath || "", (c) => select(c));
state.notices = notices;

function pollNotices() {
  if (state.api && state.settings.token) notices.poll(state.api.base, state.settings.token);
}

function startPolling() {
  stopPolling();
  state.timers.push(setInterval(refresh, state.settings.pollSeconds * 1000));
  state.timers.push(setInterval(pollNotices, state.settings.pollSeconds * 1000));
}

function stopPolling() {
  for (const timer of state.timers) clearInterval(timer);
  state.timers = [];
  state.polling = false;
}

async function initSignIn() {
  $("sign-in").addEventListener("click", () => signIn.begin());
  $("sign-out").addEventListener("click", async () => {
    const hosted = Boolean(signIn.session);
    state.settings.token = "";
    saveSettings(state.settings); // a pasted token is forgotten too
    $("api-token").value = "";
    forgetPreviousUser();
    $("whoami").textContent = "";
    renderSignIn();
    if (hosted) await signIn.signOut();
    else announce("Signed out.");
  });
  if (!signIn.enabled) return;
  // A refreshed token is the same user: the API client just carries the new one.
  signIn.onTokens = (session) => {
    state.settings.token = session.idToken;
    if (state.api) state.api.token = session.idToken;
  };
  signIn.onEnded = (error) => announce(error.message);
  try {
    const session = await signIn.resume();
    if (session) state.settings.token = session.idToken;
  } catch (error) {
    announce(error.message);
  }
}

function tick() {
  for (const node of document.querySelectorAll(".countdown[data-instant]")) {
    node.textContent = `${node.dataset.prefix || ""}${countdown(node.dataset.instant)}`;
  }
  for (const node of document.querySelectorAll(".relative[data-instant]")) {
    node.textContent = `(${relative(node.dataset.instant)})`;
  }
}

function init() {
  initSettings();
  $("composer").addEventListener("submit", send);
  $("message-text").addEventListener("input", scheduleCheck);
  $("tag").addEventListener("change", scheduleCheck);
  $("template").addEventListener("change", () => { renderTemplateParams(); scheduleCheck(); });
  for (const radio of document.querySelectorAll('input[name="mode"]')) {
    radio.addEventListener("change", () => { setMode(mode()); if (mode() === "template") renderTemplates(); state.lastCheckKey = ""; scheduleCheck(); });
  }
  $("take-over").addEventListener("click", () => handover("human"));
  $("give-back").addEventListener("click", () => handover("bot"));
  $("followup-form").addEventListener("submit", scheduleFollowup);
  $("consent-form").addEventListener("submit", recordConsent);
  $("history").addEventListener("toggle", () => { if ($("history").open) loadHistory(true); });
  $("history-more").addEventListener("click", () => loadHistory(false));
  $("channel-filter").addEventListener("change", reloadList);
  $("conversation-sort").addEventListener("change", reloadList);
  $("conversation-search").addEventListener("input", debounce(reloadList, 300));
  $("load-more-conversations").addEventListener("click", loadMoreConversations);
  setInterval(tick, 1000);
  initSignIn().then(connect).then(pollNotices);
}

init();

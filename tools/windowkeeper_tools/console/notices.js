// The notifications panel: the bus events of the local stack (GET /_local/events, the local event
// tap), polled with a cursor. Only where config.js names an eventsPath: the local stack does; a
// deployed console has no tap (teams subscribe with EventBridge rules, docs/events/README.md) and
// shows no panel. The token narrows the tap to the agent's tenant.
// What needs a person (a window closing soon, a follow-up refused or failed, a stuck send) is
// listed in full; every other event is counted and listed compactly underneath.

const ATTENTION = {
  "window.closing_soon": { label: "Window closing soon", tone: "warn" },
  "human_agent_window.closing_soon": { label: "HUMAN_AGENT window closing soon", tone: "warn" },
  "followup.refused": { label: "Follow-up refused", tone: "bad" },
  "followup.failed": { label: "Follow-up failed", tone: "bad" },
  "followup.stuck": { label: "Stuck send: check the conversation", tone: "bad" },
  "reengagement.stuck": { label: "Stuck re-engagement send: check the conversation", tone: "bad" },
};
const KEEP_ATTENTION = 20;
const KEEP_OTHERS = 30;

function text(tag, className, value) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.textContent = value;
  return node;
}

function when(instant) {
  const date = new Date(instant);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function sentence(entry) {
  const d = entry.detail || {};
  if (d.message) return d.message;
  if (d.explanation) return d.explanation;
  if (d.reasons && d.reasons.length) return `Reasons: ${d.reasons.join(", ")}`;
  return d.status_reason || "";
}

function compact(entry) {
  const d = entry.detail || {};
  const bits = [d.kind && d.kind !== entry.detail_type ? d.kind : "", d.status || "", d.route ? `for the ${d.route}` : ""];
  return `${entry.detail_type} · ${d.contact_id || ""} ${bits.filter(Boolean).join(" ")}`.trim();
}

export class NoticesPanel {
  // root: the <section> element; onOpen({channel, account_id, contact_id}) opens a conversation.
  constructor(root, eventsPath, onOpen) {
    this.root = root;
    this.eventsPath = eventsPath;
    this.onOpen = onOpen;
    this.cursor = 0;
    this.attention = [];
    this.others = [];
    this.otherCount = 0;
    this.busy = false;
    this.failed = false;
  }

  reset() {
    this.cursor = 0;
    this.attention = [];
    this.others = [];
    this.otherCount = 0;
    this.render();
  }

  async poll(base, token) {
    if (!this.eventsPath || !token || this.busy) return;
    this.busy = true;
    try {
      const response = await fetch(`${base}${this.eventsPath}?after=${this.cursor}`, {
        headers: { Accept: "application/json", Authorization: `Bearer ${token}` },
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = await response.json();
      for (const entry of body.events) this.add(entry);
      this.cursor = body.cursor;
      this.failed = false;
      this.render();
    } catch {
      if (!this.failed) {
        this.failed = true;
        this.render();
      }
    } finally {
      this.busy = false;
    }
  }

  add(entry) {
    if (ATTENTION[entry.detail_type]) {
      this.attention.unshift(entry);
      this.attention.length = Math.min(this.attention.length, KEEP_ATTENTION);
    } else {
      this.otherCount += 1;
      this.others.unshift(entry);
      this.others.length = Math.min(this.others.length, KEEP_OTHERS);
    }
  }

  render() {
    this.root.hidden = !this.eventsPath;
    const list = this.root.querySelector("#notices-list");
    const others = this.root.querySelector("#notices-others");
    const summary = this.root.querySelector("#notices-others-summary");
    const empty = this.root.querySelector("#notices-empty");
    list.replaceChildren();
    for (const entry of this.attention) {
      const meta = ATTENTION[entry.detail_type];
      const d = entry.detail || {};
      const item = document.createElement("li");
      item.className = `notice notice-${meta.tone}`;
      item.dataset.detailType = entry.detail_type;
      const open = document.createElement("button");
      open.type = "button";
      open.className = "notice-open";
      open.append(
        text("span", "notice-title", meta.label),
        text("span", "notice-who subtle", `${d.channel || ""} · ${d.contact_id || ""} · ${when(entry.time)}`),
        text("span", "notice-text", sentence(entry)),
      );
      open.addEventListener("click", () => this.onOpen({ channel: d.channel, account_id: d.account_id, contact_id: d.contact_id }));
      item.append(open);
      list.append(item);
    }
    empty.hidden = this.attention.length > 0;
    empty.textContent = this.failed ? "Notifications are not reachable right now." : "Nothing needs you right now.";
    summary.textContent = `${this.otherCount} other event${this.otherCount === 1 ? "" : "s"}`;
    others.replaceChildren(...this.others.map((entry) => text("li", "subtle", `${when(entry.time)} ${compact(entry)}`)));
  }
}

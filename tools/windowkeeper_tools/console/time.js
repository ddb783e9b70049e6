// Countdowns tick in the browser between polls; every instant the API sends is ISO 8601 UTC.

export function parseInstant(iso) {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

export function duration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(total / 86400);
  const hours = Math.floor((total % 86400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const pad = (n) => String(n).padStart(2, "0");
  if (days > 0) return `${days}d ${hours}h ${pad(minutes)}m`;
  if (hours > 0) return `${hours}h ${pad(minutes)}m ${pad(seconds)}s`;
  return `${minutes}m ${pad(seconds)}s`;
}

// "closes in 3h 12m 05s" / "closed 2d 1h 04m ago"; null when there is no instant.
export function countdown(iso, now = Date.now()) {
  const at = parseInstant(iso);
  if (at === null) return null;
  return at > now ? `closes in ${duration(at - now)}` : `closed ${duration(now - at)} ago`;
}

export function localTime(iso) {
  const at = parseInstant(iso);
  if (at === null) return "";
  return new Date(at).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function debounce(fn, waitMs) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), waitMs);
  };
}

// "in 2h 05m 10s" / "5m 02s ago": for instants that are not window closings (follow-ups).
export function relative(iso, now = Date.now()) {
  const at = parseInstant(iso);
  if (at === null) return "";
  return at > now ? `in ${duration(at - now)}` : `${duration(now - at)} ago`;
}

// Deployment settings for the console. The local stack serves its own version of this file;
// a static deployment edits apiBaseUrl here (agents can still override it in Settings).
window.WINDOWKEEPER_CONFIG = { apiBaseUrl: "", environment: "static", pollSeconds: 5 };

// Deployment settings for the console. The local stack serves its own version of this file;
// a static deployment edits apiBaseUrl here (agents can still override it in Settings).
// auth: the Cognito hosted UI from the stack outputs (HostedUiDomain, ConsoleClientId); the
// console's address must be the stack's ConsoleUrl (its callback and sign-out URL).
window.WINDOWKEEPER_CONFIG = {
  apiBaseUrl: "",
  environment: "static",
  pollSeconds: 5,
  // auth: { domain: "https://<prefix>.auth.<region>.amazoncognito.com", clientId: "<ConsoleClientId>" },
};

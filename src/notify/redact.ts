// A webhook URL often is the credential (Slack's and Discord's tokens are in the path, ntfy's topic
// is a shared secret, basic auth sits in the userinfo): only its scheme and host are ever logged.

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return '(unparsable URL)';
  }
}

/** The URL without userinfo, and the Authorization header the userinfo stood for. */
export function splitCredentials(url: string): { url: string; headers: Record<string, string> } {
  const u = new URL(url);
  if (!u.username && !u.password) return { url, headers: {} };
  const auth = Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64');
  u.username = '';
  u.password = '';
  return { url: u.toString(), headers: { authorization: `Basic ${auth}` } };
}

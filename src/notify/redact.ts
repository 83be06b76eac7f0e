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

/**
 * Why `url` cannot be used as a webhook, or null when it can: everything splitCredentials and fetch
 * would trip over later, found while the settings are read. Never quotes the URL (it may be the
 * credential): new URL's own message does ("… cannot be parsed as a URL" in some runtimes).
 */
export function webhookUrlProblem(url: string): string | null {
  // new URL alone takes "http:/h" and "http:h" for http://h/; a webhook spelled so is a typo.
  if (!/^https?:\/\/[^/?#\s]+/i.test(url)) return 'expected an http:// or https:// URL';
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'not a valid URL (check the host, the port (at most 65535) and the brackets of an IPv6 address)';
  }
  try {
    decodeURIComponent(u.username);
    decodeURIComponent(u.password);
  } catch {
    return 'the user name or password is not valid percent-encoding (write a literal % as %25)';
  }
  return null;
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

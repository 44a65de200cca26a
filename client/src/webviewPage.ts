import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/**
 * The HTML shell of every TTS Distill webview: CSP `default-src 'none'`, one bundled script
 * allowed by a fresh nonce, one stylesheet, images and media from the webview's own resource
 * roots only. The page's content is built by the script.
 */
export function webviewPage(
  extensionUri: vscode.Uri,
  webview: vscode.Webview,
  page: { script: string; style: string; title: string },
): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'media', page.script));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', page.style));
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${webview.cspSource}`,
    `img-src ${webview.cspSource}`,
    `media-src ${webview.cspSource}`,
  ].join('; ');
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>${esc(page.title)}</title>
</head>
<body>
<main id="app" aria-live="polite"><p class="notice">Loading…</p></main>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}

/// <reference lib="dom" />
/**
 * Renders a certificate page in Debian's Chromium with puppeteer-core and prints what a reader and a
 * printer would get, as JSON on stdout. A child process of test/certificate/certificate-html.browser.test.ts:
 * puppeteer-core ships ESM only, which jest's CommonJS runtime cannot load.
 * Usage: tsx render-certificate.ts <chromium> <page.html> <content-security-policy>
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import puppeteer from 'puppeteer-core';

async function main([chromium, htmlPath, csp]: string[]) {
  const html = readFileSync(htmlPath!, 'utf8');
  // Served with the service's headers, so the content security policy is in force.
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp! }).end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/certificate`;
  const browser = await puppeteer.launch({ executablePath: chromium!, args: ['--no-sandbox', '--disable-gpu'], headless: true });
  try {
    const tab = await browser.newPage();
    const problems: string[] = [];
    tab.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warn') problems.push(message.text());
    });
    tab.on('pageerror', (error) => problems.push(String(error)));
    tab.on('request', (request) => {
      if (request.url() !== url) problems.push(`request to ${request.url()}`);
    });
    await tab.setViewport({ width: 794, height: 1123 }); // A4 at 96 dpi
    await tab.goto(url, { waitUntil: 'load' });

    const overflow: Record<string, { page: number; elements: string[] }> = {};
    for (const media of ['screen', 'print'] as const) {
      await tab.emulateMediaType(media);
      for (const width of [794, 420]) {
        await tab.setViewport({ width, height: 1123 });
        overflow[`${media}@${width}`] = await tab.evaluate(() => {
          const root = document.documentElement;
          const wide = [...document.querySelectorAll('td, th, dd, dt, h1, h2, p')].filter(
            (el) => el.scrollWidth > el.clientWidth + 1,
          );
          return { page: root.scrollWidth - root.clientWidth, elements: wide.map((el) => (el.textContent ?? '').slice(0, 40)) };
        });
      }
    }
    await tab.emulateMediaType('screen');
    await tab.setViewport({ width: 794, height: 1123 });
    const pdf = Buffer.from(await tab.pdf({ format: 'A4', preferCSSPageSize: true }));
    const report = {
      problems,
      title: await tab.title(),
      text: await tab.$eval('body', (el) => (el as HTMLElement).innerText),
      borderCollapse: await tab.$eval('table', (el) => getComputedStyle(el).borderCollapse),
      scripts: await tab.$$eval('script, link, img, iframe, object', (els) => els.length),
      overflow,
      pdfPages: Number(/\/Type\s*\/Pages\b[^>]*\/Count\s+(\d+)/.exec(pdf.toString('latin1'))?.[1] ?? 0),
    };
    process.stdout.write(JSON.stringify(report));
  } finally {
    await browser.close();
    server.close();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(String(error instanceof Error ? error.stack : error));
  process.exitCode = 1;
});

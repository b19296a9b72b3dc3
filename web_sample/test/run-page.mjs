// Drives the sample page in headless Chromium (playwright-core) and prints what it computed as
// JSON: the live windows of a WAV played as the fake microphone, or the result of a dropped file.
//
//   node test/run-page.mjs --model DIST/emotion_waveform_int8.tflite --mic clip.wav --windows 8
//   node test/run-page.mjs --model DIST/emotion_waveform_int8.tflite --drop clip.wav
//
// The page and its node_modules are served from this folder on 127.0.0.1, the model from
// --model. Every request the page makes is listed, so a test can check none left the machine.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const TYPES = {
  ".html": "text/html",
  ".css": "text/css",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".wasm": "application/wasm",
};

const { values: args } = parseArgs({
  options: {
    model: { type: "string" },
    mic: { type: "string" },
    drop: { type: "string" },
    windows: { type: "string", default: "1" },
    chromium: { type: "string", default: "/usr/bin/chromium" },
    timeout: { type: "string", default: "60" },
  },
});

function serve(modelPath) {
  const model = `/${path.basename(modelPath)}`;
  return http.createServer((request, response) => {
    const url = decodeURIComponent(new URL(request.url, "http://localhost").pathname);
    const file = url === model ? modelPath : path.join(ROOT, path.normalize(url));
    if (url !== model && !file.startsWith(ROOT + path.sep)) {
      response.writeHead(403).end();
      return;
    }
    fs.readFile(file, (error, data) => {
      if (error) {
        response.writeHead(404).end();
        return;
      }
      const type = TYPES[path.extname(file)] || "application/octet-stream";
      response.writeHead(200, { "content-type": type }).end(data);
    });
  });
}

const server = serve(path.resolve(args.model));
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${server.address().port}`;
const flags = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--use-fake-ui-for-media-stream",
  "--use-fake-device-for-media-stream",
  "--autoplay-policy=no-user-gesture-required",
];
if (args.mic) flags.push(`--use-file-for-fake-audio-capture=${path.resolve(args.mic)}`);
const userDataDir = fs.mkdtempSync(path.join(fs.realpathSync("/tmp"), "edge-ser-chromium-"));
const browser = await chromium.launchPersistentContext(userDataDir, {
  executablePath: args.chromium,
  headless: true,
  args: flags,
  permissions: ["microphone"],
});
const output = { requests: [], console: [] };
const timeout = Number(args.timeout) * 1000;
try {
  const page = browser.pages()[0] || (await browser.newPage());
  page.on("request", (request) => output.requests.push(request.url()));
  page.on("console", (message) => output.console.push(`${message.type()}: ${message.text()}`));
  await page.goto(`${origin}/index.html?model=${encodeURIComponent(path.basename(args.model))}`);
  await page.waitForFunction(() => window.edgeSer.ready || window.edgeSer.error, null, { timeout });
  if (args.mic) {
    await page.click("#start");
    await page.waitForFunction(
      (n) => window.edgeSer.live.length >= n || window.edgeSer.error,
      Number(args.windows),
      { timeout },
    );
    await page.click("#stop");
  }
  if (args.drop) {
    const bytes = fs.readFileSync(path.resolve(args.drop)).toString("base64");
    const transfer = await page.evaluateHandle(
      ([name, data]) => {
        const transfer = new DataTransfer();
        const raw = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        transfer.items.add(new File([raw], name, { type: "audio/wav" }));
        return transfer;
      },
      [path.basename(args.drop), bytes],
    );
    await page.dispatchEvent("#drop", "drop", { dataTransfer: transfer });
    await page.waitForFunction(() => window.edgeSer.file || window.edgeSer.error, null, { timeout });
  }
  output.state = await page.evaluate(() => ({ ...window.edgeSer, head: Array.from(window.edgeSer.head) }));
} finally {
  await browser.close();
  server.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(output));

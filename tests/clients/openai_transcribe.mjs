// A real OpenAI client against Rostrum: the official `openai` npm package, unchanged, with its
// base URL pointed at http://HOST/v1 and a Rostrum access token as the API key.
//   node openai_transcribe.mjs BASE_URL API_KEY FILE [JSON_OPTIONS]
// Prints {"ok": true, "result": ...} or {"ok": false, "status", "code", "param", "message",
// "request_id"} (what the library made of an error response) as one JSON line.
import fs from "node:fs";
import OpenAI from "openai";

const [baseURL, apiKey, file, options = "{}"] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 120_000 });
try {
    const result = await client.audio.transcriptions.create({
        file: fs.createReadStream(file),
        model: "whisper-1",
        ...JSON.parse(options),
    });
    console.log(JSON.stringify({ ok: true, result }));
} catch (e) {
    if (!(e instanceof OpenAI.APIError)) throw e;
    console.log(JSON.stringify({
        ok: false, status: e.status, code: e.code, param: e.param, type: e.type,
        message: e.message, request_id: e.requestID ?? e.request_id ?? null,
    }));
}

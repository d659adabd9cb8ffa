// One console API call through the official Qianfan Node SDK (@baiducloud/qianfan consoleAction),
// exactly as a user's script would make it. Usage: node sdk_call.cjs ROUTE ACTION JSON_BODY
// Credentials and the base URL come from QIANFAN_ACCESS_KEY, QIANFAN_SECRET_KEY and
// QIANFAN_CONSOLE_API_BASE_URL, as the SDK documents. Prints one JSON line:
// {"ok": true, "response": ...} or {"ok": false, "error": "..."}; exits 0 either way so the
// calling test decides what is expected.
const { consoleAction } = require('@baiducloud/qianfan');

async function main() {
  const [route, action, body] = process.argv.slice(2);
  try {
    const response = await consoleAction({
      base_api_route: route,
      action,
      data: JSON.parse(body),
    });
    delete response.headers;  // transport detail; the test checks the API result
    console.log(JSON.stringify({ ok: true, response }));
  } catch (error) {
    console.log(JSON.stringify({ ok: false, error: String(error && error.message) }));
  }
}

main();

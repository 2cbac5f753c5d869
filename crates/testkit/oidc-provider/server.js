// A real OpenID provider for Insights' tests: panva/oidc-provider (OpenID Certified) on
// 127.0.0.1 with one client, static accounts, a fresh RS256 key per start (restart it to rotate
// keys), its built-in login and consent pages, PKCE S256 required and RP-initiated logout.
//
// Configuration comes as JSON in the OIDC_TEST_CONFIG environment variable:
//   { "port": 0, "clients": [{ "client_id", "client_secret", "redirect_uris", "post_logout_redirect_uris" }],
//     "accounts": { "<login>": { "sub": "...", "email": "...", "preferred_username": "..." } },
//     "claims_in_id_token": true }
// It prints "READY <issuer>" once listening.
import { generateKeyPairSync, randomUUID } from "node:crypto";
import Provider from "oidc-provider";

const config = JSON.parse(process.env.OIDC_TEST_CONFIG ?? "{}");
const port = config.port ?? 0;

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: "jwk" }), kid: randomUUID(), use: "sig", alg: "RS256" };

const accounts = config.accounts ?? {};

async function start() {
  // Bind first to learn the port, so the issuer can name it.
  const http = await import("node:http");
  const server = http.createServer();
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: (config.clients ?? []).map((client) => ({
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
      ...client,
    })),
    jwks: { keys: [jwk] },
    cookies: { keys: [randomUUID()] },
    pkce: { required: () => true },
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["preferred_username", "name"] },
    conformIdTokenClaims: !(config.claims_in_id_token ?? false),
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
    async findAccount(ctx, id) {
      const account = accounts[id];
      if (!account) return undefined;
      return { accountId: id, claims: async () => ({ sub: account.sub ?? id, email_verified: true, ...account }) };
    },
  });
  provider.proxy = false;
  server.on("request", provider.callback());
  process.stdout.write(`READY ${issuer}\n`);
}

start().catch((error) => {
  process.stderr.write(`oidc test provider failed: ${error.stack}\n`);
  process.exit(1);
});
process.on("SIGTERM", () => process.exit(0));

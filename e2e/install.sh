#!/usr/bin/env bash
# Installs what the browser tests need, idempotently: Debian's Chromium (the tests drive
# /usr/bin/chromium; no browser is downloaded by npm) and the pinned playwright-core from
# package-lock.json. Runs as root on CI; safe to run again.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x /usr/bin/chromium ]; then
  echo "e2e: installing Debian's chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "e2e: Node.js 20 or newer with npm is needed (node and npm are not on PATH)" >&2
  exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "e2e: Node.js 20 or newer is needed, found $(node --version)" >&2
  exit 1
fi

# playwright-core never downloads a browser on install; the variable makes that explicit.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ -f package-lock.json ]; then
  # Every pinned package (playwright-core, axe-core) at its locked version, or a clean install.
  stale=$(node -e '
    const lock = require("./package-lock.json").packages;
    const names = ["playwright-core", "axe-core"];
    const have = (n) => { try { return require(`./node_modules/${n}/package.json`).version; } catch { return ""; } };
    console.log(names.filter((n) => have(n) !== lock[`node_modules/${n}`].version).join(" "));
  ')
  if [ -n "$stale" ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
else
  npm install --no-audit --no-fund --loglevel=error
fi
echo "e2e: $(/usr/bin/chromium --version 2>/dev/null | tail -n 1), playwright-core $(node -p 'require("./node_modules/playwright-core/package.json").version'), axe-core $(node -p 'require("./node_modules/axe-core/package.json").version')"

# The real OpenID provider that the sign-in test signs in through.
provider="$(cd .. && pwd)/crates/testkit/oidc-provider"
if [ ! -d "$provider/node_modules/oidc-provider" ]; then
  (cd "$provider" && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "e2e: oidc-provider $(node -p "require('$provider/node_modules/oidc-provider/package.json').version")"

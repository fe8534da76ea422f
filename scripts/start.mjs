// `npm start`: runs devserver with the demo realm, serving the demo app (www/) and the package
// built into pkg/ by scripts/build.mjs. PORT=... picks another port.
import { spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const port = process.env.PORT ?? '8080'

// The demo realm lets the demo app redirect back to port 8080; on another port, a copy of the
// realm with that port's redirect URIs is imported instead.
let realmFile = join(root, 'devserver', 'realms', 'demo.json')
if (port !== '8080') {
  const realm = JSON.parse(readFileSync(realmFile, 'utf8'))
  for (const client of realm.clients ?? []) {
    client.redirectUris = client.redirectUris?.map((uri) => uri.replace(':8080/', `:${port}/`))
  }
  realmFile = join(mkdtempSync(join(tmpdir(), 'keycloak-wasm-demo-')), 'demo.json')
  writeFileSync(realmFile, JSON.stringify(realm))
}

execFileSync('cargo', ['build', '--release', '-p', 'devserver'], { cwd: root, stdio: 'inherit' })
const server = spawn(join(root, 'target', 'release', 'devserver'), [
  '--port', port, '--import-realm', realmFile,
  '--www', join(root, 'www'), '--pkg', join(root, 'pkg')
], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })

server.stdout.on('data', (chunk) => {
  process.stdout.write(chunk)
  if (/listening on/.test(chunk)) {
    console.log(`\n  Demo:        http://localhost:${port}/`)
    console.log('  Demo logins: alice / alice (role user), bob / bob (roles user, admin)')
    console.log(`  Admin API:   admin / admin (master realm; see devserver/README.md)\n`)
  }
})
server.on('exit', (code) => process.exit(code ?? 0))
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.kill(signal))

// `npm start`: runs devserver with the demo realm, serving the demo app (www/) and the package
// built into pkg/ by scripts/build.mjs. PORT=... picks another port.
import { spawn, execFileSync } from 'node:child_process'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const port = process.env.PORT ?? '8080'

execFileSync('cargo', ['build', '--release', '-p', 'devserver'], { cwd: root, stdio: 'inherit' })
const server = spawn(join(root, 'target', 'release', 'devserver'), [
  '--port', port, '--import-realm', join(root, 'devserver', 'realms', 'demo.json'),
  '--www', join(root, 'www'), '--pkg', join(root, 'pkg')
], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })

server.stdout.on('data', (chunk) => {
  process.stdout.write(chunk)
  if (/listening on/.test(chunk)) {
    console.log(`\n  Demo:        http://localhost:${port}/`)
    console.log('  Demo logins: alice / alice (role user), bob / bob (roles user, admin)')
    console.log(`  Admin:       admin / admin (master realm, http://localhost:${port}/admin/)\n`)
  }
})
server.on('exit', (code) => process.exit(code ?? 0))
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.kill(signal))

// A token sent over plain ws: can be read by anyone on the network path. To this machine
// (loopback) that is fine during development; to any other host the socket warns, once, without
// the token in the warning.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useWorld, newPage, signedIn, hubUrl, openSocket, waitForLog, restartHub } from './setup.mjs'

// A name that is not loopback, resolved by the browser to this machine's devserver.
const world = useWorld({ browserArgs: ['--host-resolver-rules=MAP hub.example 127.0.0.1'] })

/** The page's console warnings about plain ws:. */
function recordWarnings (page) {
  const lines = []
  page.on('console', (message) => { if (message.type() === 'warning' && message.text().includes('ws:')) lines.push(message.text()) })
  return lines
}

const welcomes = (page) => page.evaluate(() => window.socketLog.filter((e) => e.type === 'message' && e.data.includes('"welcome"')).length)

test('a token over ws: to another host is warned about once, without the token', async () => {
  const page = await newPage(world)
  const warnings = recordWarnings(page)
  assert.deepEqual(await signedIn(world, page), { ok: true, value: true })
  const url = hubUrl(world).replace('127.0.0.1', 'hub.example')
  await openSocket(page, url)
  await waitForLog(page, '(e, m) => m?.type === "welcome"')
  // A reconnect sends the token again, and does not warn again.
  await restartHub(world)
  await page.waitForFunction(() => window.socketLog.filter((e) => e.type === 'message' && e.data.includes('"welcome"')).length === 2, null, { timeout: 20000 })
  assert.equal(await welcomes(page), 2)
  const token = await page.evaluate(() => window.kc.token)
  assert.equal(warnings.length, 1, warnings.join('\n'))
  assert.match(warnings[0], /ws:/)
  assert.match(warnings[0], /hub\.example/)
  assert.ok(!warnings[0].includes(token), 'the warning does not carry the token')
  await page.evaluate(() => window.socket.close())
  await page.context().close()
})

test('a token over ws: to loopback is not warned about', async () => {
  const page = await newPage(world)
  const warnings = recordWarnings(page)
  assert.deepEqual(await signedIn(world, page), { ok: true, value: true })
  await openSocket(page, hubUrl(world))
  await waitForLog(page, '(e, m) => m?.type === "welcome"')
  await page.evaluate(() => window.socket.close())
  await page.context().close()
  assert.deepEqual(warnings, [])
})

// Who sees which events: bob (realm role admin) sees everyone's, alice only her own.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useWorld, newPage, signedIn, hubUrl, openSocket, waitForLog, messages } from './setup.mjs'

const world = useWorld()

/** Signs `username` in on a fresh page with a socket open; returns the page and the welcome. */
async function withSocket (username) {
  const page = await newPage(world)
  assert.deepEqual(await signedIn(world, page, { username }), { ok: true, value: true })
  await openSocket(page, hubUrl(world))
  const welcome = JSON.parse((await waitForLog(page, '(e, m) => m?.type === "welcome"')).data)
  return { page, welcome }
}

const events = async (page) => (await messages(page)).filter((m) => m.type === 'event').map((m) => m.event)

test("an admin's socket receives another user's LOGIN", async () => {
  const bob = await withSocket('bob')
  assert.equal(bob.welcome.admin, true)
  const alice = await newPage(world)
  await signedIn(world, alice, { username: 'alice' })
  const aliceSub = await alice.evaluate(() => window.kc.subject)
  const login = await waitForLog(bob.page, `(e, m) => m?.type === "event" && m.event.type === "LOGIN" && m.event.userId === ${JSON.stringify(aliceSub)}`)
  const event = JSON.parse(login.data).event
  assert.equal(event.realmId, 'demo')
  assert.equal(event.clientId, 'demo-app')
  assert.equal(event.details.username, 'alice')
  await alice.context().close()
  await bob.page.context().close()
})

test("a normal user's socket receives only the user's own events, not another user's LOGIN", async () => {
  const alice = await withSocket('alice')
  assert.equal(alice.welcome.admin, false)
  const bob = await newPage(world)
  await signedIn(world, bob, { username: 'bob' })
  const bobSub = await bob.evaluate(() => window.kc.subject)
  // Events reach a socket in the order they happen: once alice's own later refresh has arrived,
  // bob's earlier LOGIN would have arrived before it.
  await alice.page.evaluate(() => window.kc.updateToken(-1))
  await waitForLog(alice.page, `(e, m) => m?.type === "event" && m.event.type === "REFRESH_TOKEN" && m.event.userId === ${JSON.stringify(alice.welcome.sub)}`)
  const seen = await events(alice.page)
  assert.ok(seen.length >= 1)
  assert.ok(seen.every((e) => e.userId === alice.welcome.sub), JSON.stringify(seen.map((e) => [e.type, e.userId])))
  assert.ok(!seen.some((e) => e.userId === bobSub))
  await bob.context().close()
  await alice.page.context().close()
})

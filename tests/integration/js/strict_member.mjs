// A member on Element's own SDK (matrix-js-sdk with its Rust crypto) in the "exclude insecure devices"
// mode: room keys go only to devices their owner cross-signed, and messages from other devices are not
// shown. It opens an encrypted room with the bot, sends a command and waits for the answer.
// argv: homeserver user_id access_token device_id password bot_user_id command
// Prints one JSON line: what the member's app concluded.
// matrix-js-sdk targets Node 22; Node 20 lacks Promise.withResolvers, which its crypto loop uses.
if (!Promise.withResolvers) {
  Promise.withResolvers = () => {
    let resolve, reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}
const sdk = await import("matrix-js-sdk");
const { OnlySignedDevicesIsolationMode } = await import("matrix-js-sdk/lib/crypto-api/index.js");

const [baseUrl, userId, accessToken, deviceId, password, botId, command] = process.argv.slice(2);
const result = {};
const done = (extra) => { console.log(JSON.stringify({ ...result, ...extra })); process.exit(0); };
setTimeout(() => done({ error: "timeout" }), 80_000);

const client = sdk.createClient({ baseUrl, userId, accessToken, deviceId, logger: undefined });
result.stage = "crypto";
await client.initRustCrypto({ useIndexedDB: false });
result.stage = "sync";
const crypto = client.getCrypto();
crypto.setDeviceIsolationMode(new OnlySignedDevicesIsolationMode());
await new Promise((resolve) => {
  client.once(sdk.ClientEvent.Sync, (state) => resolve(state));
  client.startClient({ initialSyncLimit: 10 });
});

// In this mode Element refuses to send from an account that is not cross-signed itself: set it up, as
// Element does at sign-up.
result.stage = "own cross-signing";
await crypto.bootstrapCrossSigning({
  authUploadDeviceSigningKeys: async (makeRequest) => {
    await makeRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: userId }, password });
  },
});
result.stage = "create";
const { room_id: roomId } = await client.createRoom({
  invite: [botId],
  initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
});
result.stage = "join";
for (;;) {
  const members = await client.getJoinedRoomMembers(roomId);
  if (botId in (members.joined ?? {}) && client.getRoom(roomId)?.getMember(botId)?.membership === "join") break;
  await new Promise((r) => setTimeout(r, 300));
}
result.stage = "devices";

const botDevices = await crypto.getUserDeviceInfo([botId], true);
const statuses = [];
for (const [id] of botDevices.get(botId) ?? new Map()) {
  const status = await crypto.getDeviceVerificationStatus(botId, id);
  statuses.push({ id, signedByOwner: status?.signedByOwner ?? false, crossSigningVerified: status?.crossSigningVerified ?? false });
}
result.botDevices = statuses;

result.stage = "send";
let sent;
try {
  sent = await client.sendMessage(roomId, { msgtype: "m.text", body: command });
} catch (error) {
  done({ error: `sending refused: ${error?.message ?? error}` });
}
result.sent = sent.event_id;
result.stage = "answer";

const unreadable = new Set();
for (;;) {
  const events = client.getRoom(roomId)?.getLiveTimeline().getEvents() ?? [];
  for (const event of events) {
    if (event.getSender() !== botId || !event.isEncrypted()) continue;
    await client.decryptEventIfNeeded(event);
    if (event.isDecryptionFailure() || event.getType() !== "m.room.message") {
      if (event.isDecryptionFailure()) unreadable.add(event.getId());
      result.unreadableAnswers = unreadable.size;
      continue;
    }
    const info = await crypto.getEncryptionInfoForEvent(event);
    done({
      answer: event.getContent().body ?? null,
      repliesTo: event.getContent()["m.relates_to"]?.["m.in_reply_to"]?.event_id ?? null,
      shieldColour: info?.shieldColour ?? null,
      shieldReason: info?.shieldReason ?? null,
    });
  }
  await new Promise((r) => setTimeout(r, 300));
}

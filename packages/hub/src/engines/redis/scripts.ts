/**
 * A Lua fragment that ends a write script, storing nothing, when it runs past `deadlineVar` (a Lua
 * variable holding ms on Redis's clock, 0 for none; see `RedisConnection.writeDeadline`): an
 * `SBLATE` error naming `what` and how late. Scripts of other packages sharing the hub's
 * connection (the deploy registry's commit) begin with it too.
 */
export function refuseLate(deadlineVar: string, what: string): string {
  return `if ${deadlineVar} > 0 then
  local clock = redis.call('time')
  local late = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000) - ${deadlineVar}
  if late > 0 then
    return redis.error_reply('SBLATE ${what} ran ' .. late .. ' ms after its deadline; nothing was changed')
  end
end`;
}

/**
 * Appends a batch of events to one topic, atomically (after centrifugal/centrifuge's
 * broker_history_add_stream.lua): creates the epoch if the topic has none; for each event refuses
 * an envelope id seen within the dedupe window (answering its first offset; an id twice in the
 * batch is appended once), takes the next sequence number with HINCRBY, XADDs the event under
 * that number as its explicit id; then PUBLISHes one message to the topic's channel announcing
 * every new event of the batch, one `<offset> <event>` line each (event JSON holds no raw newline),
 * so a batch costs Redis one pub/sub send per listening node, not one per event; then
 * trims by count and by age (reading only the oldest entry unless it is too old). One script
 * call, so a batch is appended whole or (Redis unreachable) not at all.
 *
 * First of all it reads Redis's clock and refuses, storing nothing, when it runs past the deadline
 * its caller set (a time shortly before the caller gives up waiting, see
 * `RedisConnection.writeDeadline`): a Redis that was paused runs the appends sent to it meanwhile
 * when it wakes up, and those callers were already told that their publish failed.
 *
 * KEYS: stream, meta, then one seen key per event. ARGV: max events, max age ms (0: none), channel,
 * epoch to use if the topic has none, dedupe TTL s, now ms, deadline (ms on Redis's clock; 0: none),
 * then one event JSON per event.
 * Returns {offset, duplicate (0|1)} per event, flattened; an `SBLATE` error past the deadline.
 */
export const APPEND = `
local stream, meta = KEYS[1], KEYS[2]
local max_events, max_age, channel, new_epoch, dedupe_ttl, now, deadline =
  ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
${refuseLate('deadline', 'the append')}
local epoch = redis.call('hget', meta, 'e')
if not epoch then
  epoch = new_epoch
  redis.call('hset', meta, 'e', epoch)
end
local results = {}
local announced = {}
for i = 3, #KEYS do
  local seen, payload = KEYS[i], ARGV[i + 5]
  local first = redis.call('get', seen)
  if first then
    results[#results + 1] = first
    results[#results + 1] = 1
  else
    local seq = redis.call('hincrby', meta, 's', 1)
    local offset = epoch .. ':' .. seq
    redis.call('xadd', stream, 'MAXLEN', max_events, seq .. '-0', 'd', payload, 't', ARGV[6])
    redis.call('set', seen, offset, 'EX', dedupe_ttl)
    announced[#announced + 1] = offset .. ' ' .. payload
    results[#results + 1] = offset
    results[#results + 1] = 0
  end
end
if #announced > 0 then redis.call('publish', channel, table.concat(announced, '\\n')) end
local function at_of(entry)
  local fields = entry[2]
  for i = 1, #fields, 2 do if fields[i] == 't' then return tonumber(fields[i + 1]) end end
  return 0
end
local first = max_age > 0 and redis.call('xrange', stream, '-', '+', 'COUNT', 1)[1]
-- Entry ids are sequence numbers, not times: the oldest entry says whether any is too old (one
-- entry read per call, not a page); if it is, look at the oldest few and cut those too old.
if first and at_of(first) < now - max_age then
  local oldest = redis.call('xrange', stream, '-', '+', 'COUNT', 100)
  local keep = nil
  for _, entry in ipairs(oldest) do
    if at_of(entry) >= now - max_age then keep = entry[1] break end
  end
  if keep then redis.call('xtrim', stream, 'MINID', keep)
  elseif #oldest > 0 then
    local past = tonumber(string.match(oldest[#oldest][1], '^(%d+)')) + 1
    redis.call('xtrim', stream, 'MINID', past .. '-0')
  end
end
return results
`;

/**
 * Reads a page of a topic atomically with its epoch and top sequence number.
 * KEYS: stream, meta. ARGV: first sequence number wanted, count.
 * Returns {epoch or '', top or 0, first retained sequence number or 0, entries}.
 */
export const READ = `
local stream, meta = KEYS[1], KEYS[2]
local epoch = redis.call('hget', meta, 'e') or ''
local top = tonumber(redis.call('hget', meta, 's') or '0')
local oldest = redis.call('xrange', stream, '-', '+', 'COUNT', 1)
local first = 0
if #oldest > 0 then first = tonumber(string.match(oldest[1][1], '^(%d+)')) end
local entries = redis.call('xrange', stream, ARGV[1], '+', 'COUNT', ARGV[2])
return {epoch, top, first, entries}
`;

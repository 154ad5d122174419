-- Applies a batch of payments to the cache and the live aggregates.
-- ARGV[1]: cache TTL in seconds; ARGV[2]: key prefix; then 10 values per payment:
-- id, revision, rail, currency, status, amount (minor units), minute (yyyyMMddHHmm UTC),
-- originator id, created_at (microseconds), protobuf body.
--
-- {prefix}applied (hash, no TTL) remembers the highest revision applied per payment and
-- its status: a revision at or below it changes nothing, so at-least-once replays leave
-- every aggregate as it was. Counts by rail, currency and minute (and amounts by currency
-- and by rail|currency) count each payment once, at its first revision; counts by status
-- move with each newer revision. {prefix}originator:{id} keeps its latest 100 payments.
--
-- A payment is never half-applied. Redis does not roll a script back when a command fails
-- midway, so each payment's writes are checked before the first of them (an amount total
-- that would leave the signed 64-bit range refuses the payment), and the payment is marked
-- applied last. A refused payment stops the script with an error starting `REFUSED`; the
-- payments before it are fully applied, and a replay of the batch skips them.
local ttl = tonumber(ARGV[1])
local p = ARGV[2]

-- An integer written as text, as its sign and its magnitude split into the digits above
-- and below 10^10 (each exact in Lua's numbers).
local function split(text)
  local negative = string.sub(text, 1, 1) == '-'
  if negative then text = string.sub(text, 2) end
  local n = #text
  if n <= 10 then return negative, 0, tonumber(text) end
  return negative, tonumber(string.sub(text, 1, n - 10)), tonumber(string.sub(text, n - 9))
end

-- Whether HINCRBY key field by `add` keeps the total within a signed 64-bit integer.
local function increment_fits(key, field, add)
  local current = redis.call('HGET', key, field) or '0'
  local c_negative, c_high, c_low = split(current)
  local a_negative, a_high, a_low = split(add)
  if c_negative ~= a_negative then return true end
  local high, low = c_high + a_high, c_low + a_low
  if low >= 1e10 then high, low = high + 1, low - 1e10 end
  local low_max = 6854775807
  if c_negative then low_max = 6854775808 end
  return high < 922337203 or (high == 922337203 and low <= low_max)
end

local applied = 0
for i = 3, #ARGV, 10 do
  local id, rev, rail, cur, status = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local amount, minute, orig, created, body = ARGV[i + 5], ARGV[i + 6], ARGV[i + 7], ARGV[i + 8], ARGV[i + 9]
  local seen = redis.call('HGET', p .. 'applied', id)
  local old_rev, old_status = nil, nil
  if seen then
    local sep = string.find(seen, '|', 1, true)
    if sep then
      old_rev = tonumber(string.sub(seen, 1, sep - 1))
      old_status = string.sub(seen, sep + 1)
    end
  end
  if old_rev == nil or rev > old_rev then
    if old_rev == nil then
      for _, total in ipairs({
        { p .. 'agg:amount:currency', cur },
        { p .. 'agg:amount:type_currency', rail .. '|' .. cur },
      }) do
        if not increment_fits(total[1], total[2], amount) then
          return redis.error_reply('REFUSED payment ' .. id .. ': adding ' .. amount ..
            ' to ' .. total[1] .. '[' .. total[2] .. '] would leave the 64-bit integer range')
        end
      end
    end
    redis.call('SET', p .. 'payment:' .. id, body, 'EX', ttl)
    if old_rev == nil then
      redis.call('HINCRBY', p .. 'agg:count:type', rail, 1)
      redis.call('HINCRBY', p .. 'agg:count:currency', cur, 1)
      redis.call('HINCRBY', p .. 'agg:count:minute', minute, 1)
      redis.call('HINCRBY', p .. 'agg:amount:currency', cur, amount)
      redis.call('HINCRBY', p .. 'agg:amount:type_currency', rail .. '|' .. cur, amount)
      redis.call('ZADD', p .. 'originator:' .. orig, created, id)
      redis.call('ZREMRANGEBYRANK', p .. 'originator:' .. orig, 0, -101)
    else
      redis.call('HINCRBY', p .. 'agg:count:status', old_status, -1)
    end
    redis.call('HINCRBY', p .. 'agg:count:status', status, 1)
    redis.call('HSET', p .. 'applied', id, rev .. '|' .. status)
    applied = applied + 1
  end
end
return applied

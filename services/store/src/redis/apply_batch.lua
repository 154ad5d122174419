-- Applies a batch of payments to the cache and the live aggregates, atomically.
-- ARGV[1]: cache TTL in seconds; ARGV[2]: key prefix; then 10 values per payment:
-- id, revision, rail, currency, status, amount (minor units), minute (yyyyMMddHHmm UTC),
-- originator id, created_at (microseconds), protobuf body.
--
-- {prefix}applied (hash, no TTL) remembers the highest revision applied per payment and
-- its status: a revision at or below it changes nothing, so at-least-once replays leave
-- every aggregate as it was. Counts by rail, currency and minute (and amounts by currency
-- and by rail|currency) count each payment once, at its first revision; counts by status
-- move with each newer revision. {prefix}originator:{id} keeps its latest 100 payments.
local ttl = tonumber(ARGV[1])
local p = ARGV[2]
local applied = 0
for i = 3, #ARGV, 10 do
  local id, rev, rail, cur, status = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local amount, minute, orig, created, body = ARGV[i + 5], ARGV[i + 6], ARGV[i + 7], ARGV[i + 8], ARGV[i + 9]
  local seen = redis.call('HGET', p .. 'applied', id)
  local old_rev, old_status = nil, nil
  if seen then
    local sep = string.find(seen, '|', 1, true)
    old_rev = tonumber(string.sub(seen, 1, sep - 1))
    old_status = string.sub(seen, sep + 1)
  end
  if old_rev == nil or rev > old_rev then
    redis.call('HSET', p .. 'applied', id, rev .. '|' .. status)
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
    applied = applied + 1
  end
end
return applied

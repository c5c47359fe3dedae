"""The Redis store's own small scripts (a rate limiter's and a detector's live with them)."""

INCR_WITH_TTL = """
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if value == tonumber(ARGV[1]) or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return value
"""


ADD_DISTINCT = """
local created = redis.call('EXISTS', KEYS[1]) == 0
redis.call('PFADD', KEYS[1], ARGV[1])
if created and tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return redis.call('PFCOUNT', KEYS[1])
"""


AGE_OUT = """
if redis.call('TTL', KEYS[1]) == -1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return 0
"""


INDEX_EXPIRING = """
local ms = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2])
redis.call('ZADD', KEYS[1], unpack(ARGV, 3))
if redis.call('PTTL', KEYS[1]) < ms then redis.call('PEXPIRE', KEYS[1], ms) end
return 0
"""
"""An index of expiring subjects (`store.expiring`: the ban and trap-flag indexes): ZADD `score
member...` (ARGV[3...]), and keep the index until its longest entry ends (ARGV[1], ms), so the
index too expires once no entry is left. Entries ended before ARGV[2] (now) go first, so an
index written all day (a steady flood of trap hits) and never read holds only live entries."""

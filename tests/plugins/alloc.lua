-- Fixture: unbounded allocation by doubling a string (memory budget).
return tandem.policy{
  name = "alloc", version = "1.0.0", api = 1, limits = { memory_mib = 64, deadline_ms = 4000 },
  score = function(mentor, mentee, features)
    local s = "x" while true do s = s .. s end
  end,
}

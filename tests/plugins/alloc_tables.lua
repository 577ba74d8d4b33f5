-- Fixture: unbounded allocation in a table of 1 MiB strings (memory budget).
return tandem.policy{
  name = "alloc_tables", version = "1.0.0", api = 1, limits = { memory_mib = 32, deadline_ms = 4000 },
  score = function(mentor, mentee, features)
    local t = {} while true do t[#t + 1] = string.rep("x", 1 << 20) .. #t end
  end,
}

-- Fixture: unbounded Lua recursion.
return tandem.policy{
  name = "recurse", version = "1.0.0", api = 1, limits = { deadline_ms = 4000 },
  score = function(mentor, mentee, features)
    local function f(n) return 1 + f(n + 1) end return f(1)
  end,
}

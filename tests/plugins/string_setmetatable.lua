-- Fixture: tries setmetatable on a string.
return tandem.policy{
  name = "string_setmetatable", version = "1.0.0", api = 1,
  score = function(mentor, mentee, features)
    setmetatable("", {}) return 1
  end,
}

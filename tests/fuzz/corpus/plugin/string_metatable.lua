-- Fixture: tries to change the string metatable.
return tandem.policy{
  name = "string_metatable", version = "1.0.0", api = 1,
  score = function(mentor, mentee, features)
    local mt = getmetatable("") mt.__index = {} return 1
  end,
}

-- Fixture: tries to replace a string method.
return tandem.policy{
  name = "string_replace", version = "1.0.0", api = 1,
  score = function(mentor, mentee, features)
    string.rep = function() return "pwned" end return 1
  end,
}

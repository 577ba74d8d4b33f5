-- Fixture: tries to replace a string method with rawset.
return tandem.policy{
  name = "string_rawset", version = "1.0.0", api = 1,
  score = function(mentor, mentee, features)
    rawset(string, "rep", function() return "pwned" end) return 1
  end,
}

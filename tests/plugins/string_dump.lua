-- Fixture: tries string.dump.
return tandem.policy{
  name = "string_dump", version = "1.0.0", api = 1,
  score = function(mentor, mentee, features)
    return string.dump(function() end)
  end,
}

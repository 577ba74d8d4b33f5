-- Fixture: raises an error with a table value.
return tandem.policy{
  name = "error_table", version = "1.0.0", api = 1,
  score = function(mentor, mentee, features)
    error({code = 42})
  end,
}

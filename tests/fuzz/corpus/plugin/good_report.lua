-- Fixture: a report counting people and matches.
return tandem.report{
  name = "counts", version = "1.0.0", api = 1, title = "Counts",
  build = function(q, ctx)
    return { people = #q.people, matches = #q.matches, program = ctx.program.name }
  end,
}

"""Pure rules, no database: the consent tally and its what-if, money to the fen, working days."""

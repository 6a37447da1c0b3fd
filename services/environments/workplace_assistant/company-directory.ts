// company_directory_find_email_address over raw/email_addresses.csv (read
// without a header row, one address a line).
import { DECLARATIONS } from "./declarations.js";
import { lower } from "./py.js";
import { column, col, filterRows, strContains } from "./tables.js";
import { workplaceTool } from "./toolkit.js";

export const findEmailAddress = workplaceTool(DECLARATIONS.company_directory_find_email_address!, (t, { name }) => {
  if (name === "") return "Name not provided.";
  // A regular expression, case-insensitive, as str.contains reads it.
  const pattern = lower(name);
  return col(filterRows(t.directory, strContains(column(t.directory, "email_address"), pattern)), "email_address");
});

export const companyDirectoryTools = [findEmailAddress];

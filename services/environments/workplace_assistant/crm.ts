// The customer relationship manager tools over
// processed/customer_relationship_manager_data.csv (customer_id,
// assigned_to_email, customer_name, customer_email, customer_phone,
// last_contact_date, product_interest, status, follow_up_by, notes; phone
// and notes are often empty, i.e. NaN). Statuses are case-sensitive.
import { DECLARATIONS } from "./declarations.js";
import { lower, paginate, PyError, pyInt, truthy } from "./py.js";
import { column, appendRow, col, compareMask, containsValue, eqMask, filterRows, records, setWhere, strContains, strMax } from "./tables.js";
import { workplaceTool } from "./toolkit.js";

export const STATUSES = ["Qualified", "Won", "Lost", "Lead", "Proposal"];
export const PRODUCTS = ["Software", "Hardware", "Services", "Consulting", "Training"];

function isIn(v: unknown, list: readonly string[]): boolean {
  return typeof v === "string" && list.includes(v);
}

export const searchCustomers = workplaceTool(DECLARATIONS.customer_relationship_manager_search_customers!, (t, a) => {
  const keys = [
    "customer_name",
    "customer_email",
    "product_interest",
    "status",
    "assigned_to_email",
    "last_contact_date_min",
    "last_contact_date_max",
    "follow_up_by_min",
    "follow_up_by_max",
  ];
  if (!keys.some((k) => truthy(a[k]))) return "No search parameters provided. Please provide at least one parameter.";
  let c = t.crm;
  for (const k of ["customer_name", "customer_email", "product_interest", "status", "assigned_to_email"]) {
    if (truthy(a[k])) c = filterRows(c, strContains(column(c, k), a[k]));
  }
  const dates: [string, string, ">=" | "<="][] = [
    ["last_contact_date_min", "last_contact_date", ">="],
    ["last_contact_date_max", "last_contact_date", "<="],
    ["follow_up_by_min", "follow_up_by", ">="],
    ["follow_up_by_max", "follow_up_by", "<="],
  ];
  for (const [k, name, op] of dates) {
    if (truthy(a[k])) c = filterRows(c, compareMask(column(c, name), op, a[k]));
  }
  const customers = records(c);
  const p = paginate(customers.length, a.page, a.page_size);
  if (customers.length === 0) return "No customers found.";
  return {
    customers: p.slice(customers),
    pagination: { total_customers: customers.length, page: p.page, page_size: a.page_size, total_pages: p.totalPages },
  };
});

export const updateCustomer = workplaceTool(DECLARATIONS.customer_relationship_manager_update_customer!, (t, { customer_id, field, new_value }) => {
  if (!truthy(customer_id) || !truthy(field) || !truthy(new_value)) return "Customer ID, field, or new value not provided.";
  if (field === "status" && !isIn(new_value, STATUSES)) {
    return "Status not valid. Please choose from: 'Qualified', 'Won', 'Lost', 'Lead', 'Proposal'";
  }
  if (field === "product_interest" && !isIn(new_value, PRODUCTS)) {
    return "Product interest not valid. Please choose from: 'Software', 'Hardware', 'Services', 'Consulting', 'Training'";
  }
  const value = field === "customer_email" || field === "assigned_to_email" ? lower(new_value) : new_value;
  const ids = col(t.crm, "customer_id");
  if (!containsValue(ids, customer_id)) return "Customer not found.";
  if (field !== null && typeof field === "object") throw new PyError(`unhashable type: '${Array.isArray(field) ? "list" : "dict"}'`);
  if (typeof field !== "string" || !t.crm.columns.includes(field)) {
    return "Field not valid. Please choose from: 'customer_name', 'assigned_to_email', 'customer_email', 'customer_phone', 'last_contact_date', 'product_interest', 'status', 'notes', 'follow_up_by'";
  }
  t.crm = setWhere(t.crm, eqMask(ids, customer_id), field, value);
  return "Customer updated successfully.";
});

export const addCustomer = workplaceTool(DECLARATIONS.customer_relationship_manager_add_customer!, (t, a) => {
  if (![a.customer_name, a.assigned_to_email, a.status].every(truthy)) {
    return "Please provide all required fields: customer_name, assigned_to_email, status.";
  }
  const assigned = lower(a.assigned_to_email);
  const email = truthy(a.customer_email) ? lower(a.customer_email) : a.customer_email;
  const max = strMax(col(t.crm, "customer_id"));
  if (typeof max !== "string") throw new PyError("int() argument must be a string, a bytes-like object or a real number, not 'float'");
  const id = String(pyInt(max) + 1).padStart(8, "0");
  t.crm = appendRow(
    t.crm,
    {
      customer_id: id,
      customer_name: a.customer_name,
      customer_email: email,
      customer_phone: a.customer_phone,
      last_contact_date: a.last_contact_date,
      product_interest: a.product_interest,
      status: a.status,
      assigned_to_email: assigned,
      notes: a.notes,
      follow_up_by: a.follow_up_by,
    },
    true,
  );
  return id;
});

export const deleteCustomer = workplaceTool(DECLARATIONS.customer_relationship_manager_delete_customer!, (t, { customer_id }) => {
  if (!truthy(customer_id)) return "Customer ID not provided.";
  const ids = col(t.crm, "customer_id");
  if (!containsValue(ids, customer_id)) return "Customer not found.";
  t.crm = filterRows(t.crm, ids.map((v) => v !== customer_id));
  return "Customer deleted successfully.";
});

export const crmTools = [searchCustomers, updateCustomer, addCustomer, deleteCustomer];

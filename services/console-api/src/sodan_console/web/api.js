// Thin JSON client for /api. Every state-changing call carries the CSRF header.

export class ApiError extends Error {
  constructor(status, detail, data = null) {
    super(detail);
    this.status = status;
    this.data = data;
  }
}

async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-Requested-With"] = "sodan";
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, (data && data.detail) || "通信エラーが発生しました", data);
  }
  return data;
}

export const api = {
  login: (login, password, totp) =>
    request("POST", "/api/login", totp ? { login, password, totp } : { login, password }),
  totpSetup: () => request("POST", "/api/me/totp/setup"),
  totpConfirm: (code) => request("POST", "/api/me/totp/confirm", { code }),
  changePassword: (current_password, new_password) =>
    request("POST", "/api/me/password", { current_password, new_password }),
  logout: () => request("POST", "/api/logout"),
  me: () => request("GET", "/api/me"),
  desk: () => request("GET", "/api/desk"),
  producedReports: () => request("GET", "/api/reports/produced"),
  setPresence: (presence) => request("PUT", "/api/me/presence", { presence }),
  cases: (statuses, cursor, urgencies = []) => {
    const params = new URLSearchParams();
    for (const s of statuses) params.append("status", s);
    for (const u of urgencies) params.append("urgency", u);
    if (cursor) params.set("cursor", cursor);
    return request("GET", `/api/cases?${params}`);
  },
  // the list with its filter bar's parameters (URLSearchParams, API names)
  caseList: (params) => request("GET", `/api/cases?${params}`),
  caseDetail: (caseId, markRead = true) =>
    request("GET", `/api/cases/${encodeURIComponent(caseId)}${markRead ? "" : "?mark_read=false"}`),
  resend: (caseId, messageId) =>
    request(
      "POST",
      `/api/cases/${encodeURIComponent(caseId)}/replies/${encodeURIComponent(messageId)}/resend`,
    ),
  reply: (caseId, text) =>
    request("POST", `/api/cases/${encodeURIComponent(caseId)}/replies`, { text }),
  send: (caseId, body) =>
    request("POST", `/api/cases/${encodeURIComponent(caseId)}/replies`, body),
  typing: (caseId) => request("POST", `/api/cases/${encodeURIComponent(caseId)}/typing`),
  stickers: () => request("GET", "/api/stickers"),
  close: (caseId, body) =>
    request("POST", `/api/cases/${encodeURIComponent(caseId)}/close`, body),
  closingOptions: () => request("GET", "/api/closing-options"),
  hold: (caseId, hold) =>
    request("POST", `/api/cases/${encodeURIComponent(caseId)}/hold`, { hold }),
  handoverTargets: (caseId) =>
    request("GET", `/api/cases/${encodeURIComponent(caseId)}/handover-targets`),
  handOver: (caseId, body) =>
    request("POST", `/api/cases/${encodeURIComponent(caseId)}/hand-over`, body),
  decideClose: (caseId, approve) =>
    request("POST", `/api/cases/${encodeURIComponent(caseId)}/close-decision`, { approve }),
  setEmergencyMode: (caseId, body) =>
    request("PUT", `/api/cases/${encodeURIComponent(caseId)}/emergency-mode`, body),
};

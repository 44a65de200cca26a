-- An independent LSP client (neovim 0.7, written by other people) against `tts-distill lsp --stdio`.
-- Usage: nvim --headless --clean -u NONE -c 'luafile check.lua' <file>   (env TTS_DISTILL_CLI = path of bin/tts-distill.js)
local got
local cli = os.getenv("TTS_DISTILL_CLI")
local name = vim.api.nvim_buf_get_name(0)
local lang = name:match("%.tasks%.jsonl$") and "tts-tasks" or "g2p-dict"
vim.bo.filetype = lang
local id = vim.lsp.start_client({
  name = "tts-distill",
  cmd = { "node", cli, "lsp", "--stdio" },
  root_dir = vim.fn.getcwd(),
  get_language_id = function() return lang end,
  handlers = { ["textDocument/publishDiagnostics"] = function(_, res) got = res end },
})
vim.lsp.buf_attach_client(0, id)
if not vim.wait(15000, function() return got ~= nil end, 20) then
  io.stdout:write("TIMEOUT\n")
  vim.cmd("cquit 2")
end
for _, d in ipairs(got.diagnostics) do
  io.stdout:write(("%d:%d:%d %s %s\n"):format(d.range.start.line + 1, d.range.start.character + 1, d.severity, d.code or "", d.message))
end
-- Inlay hints (neovim 0.7 has no inlay-hint UI: ask for them as any LSP request and print the labels).
local lines = vim.api.nvim_buf_line_count(0)
local res = vim.lsp.buf_request_sync(0, "textDocument/inlayHint", {
  textDocument = vim.lsp.util.make_text_document_params(),
  range = { start = { line = 0, character = 0 }, ["end"] = { line = lines, character = 0 } },
}, 10000)
for _, r in pairs(res or {}) do
  if r.error then io.stdout:write("HINT ERROR " .. vim.inspect(r.error) .. "\n") end
  for _, h in ipairs(r.result or {}) do
    local label = h.label
    if type(label) == "table" then
      local parts = {}
      for _, p in ipairs(label) do table.insert(parts, p.value) end
      label = table.concat(parts)
    end
    io.stdout:write(("hint %d:%d %s\n"):format(h.position.line + 1, h.position.character + 1, label))
  end
end
vim.lsp.stop_client(id)
vim.cmd("qa!")

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
vim.lsp.stop_client(id)
vim.cmd("qa!")

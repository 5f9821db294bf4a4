// The HTML report's stylesheet and its one small script, and the Content-Security-Policy that
// allows exactly these two (by hash) and nothing else: no other script, no inline handler, no
// style attribute, no load from anywhere.
import { createHash } from 'node:crypto';

export const STYLE = `
body{font:13px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1f24;background:#fff}
h1{font-size:1.4em;margin:0 0 .4em}h2{font-size:1.15em;margin:1.6em 0 .4em;border-bottom:1px solid #ccd}
h3{font-size:1em;margin:1em 0 .3em}
table{border-collapse:collapse;margin:.3em 0}td,th{border:1px solid #d0d7de;padding:2px 6px;text-align:left;vertical-align:top}
th{background:#f3f5f7}code,.mono,.lr,.t,.fr{font-family:ui-monospace,Menlo,Consolas,monospace}
.verdict{font-size:1.2em;font-weight:bold}.FAIL{color:#b00020}.PASS{color:#116329}
.sev{font-weight:bold;padding:0 4px;border-radius:3px}.error{background:#ffd7d5;color:#82071e}.warning{background:#fff1c2;color:#6d4b00}.info{background:#ddf4ff;color:#0a3069}
.diff{background:#fff1c2}.muted{color:#57606a}
.side{display:inline-block;vertical-align:top;margin-right:1em}.row{display:flex;flex-wrap:wrap;gap:0 3em;align-items:flex-start}
.ladder{border:1px solid #d0d7de;margin:.5em 0;font-size:12px}.ck{content-visibility:auto;contain-intrinsic-size:auto 2200px}
.lr,.run>summary{display:grid;grid-template-columns:6.5em 6.5em minmax(20em,1fr) 26em;align-items:center;min-height:20px}
.lh{display:grid;grid-template-columns:6.5em 6.5em 1fr 1fr 26em;font-weight:bold;background:#f3f5f7;position:sticky;top:0;z-index:1}
.lh>span{padding:2px 4px}.lh .pb{text-align:right}
.t,.fr{color:#57606a;padding:0 4px;text-align:right}
.ar{position:relative;border-left:2px solid #8c959f;border-right:2px solid #8c959f;height:100%;min-height:20px}
.ar .ln{position:absolute;left:4px;right:4px;top:65%;border-top:1.5px solid #57606a}
.d0 .ln::after,.d1 .ln::before{content:"";position:absolute;top:-5px;border:4px solid transparent}
.d0 .ln::after{right:-4px;border-left:7px solid #57606a}.d1 .ln::before{left:-4px;border-right:7px solid #57606a}
.ar .lb{position:absolute;left:0;right:0;top:0;text-align:center;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;padding:0 8px}
.dh .ln{border-top:3px solid #cf222e}.dh.d0 .ln::after{border-left-color:#cf222e}.dh.d1 .ln::before{border-right-color:#cf222e}
.dh .lb{color:#cf222e;font-weight:bold}.ev .ln{border-top:1px dashed #8c959f}.ev .lb{color:#57606a;font-style:italic}
.fn{padding:0 4px;overflow:hidden}.fn a{display:block;text-decoration:none;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.run>summary{cursor:pointer;list-style:none;background:#f6f8fa}.run>summary .lb{color:#0550ae;font-style:italic}
.run[open]>summary{background:#eef3f8}.more,.el{padding:2px 12em;color:#57606a;font-style:italic;background:#f6f8fa}
.hl{outline:2px solid #bf8700;background:#fff8c5}
svg text{font-size:10px;fill:#57606a}svg .bg{fill:#f6f8fa}
.p1{fill:#2da44e}.p4{fill:#aceebb}.p2{fill:#218bff}.p3{fill:#cf222e}
.io polyline{fill:none;stroke-width:1.5}.io .d0{stroke:#0969da}.io .d1{stroke:#bf3989}
.key{display:inline-block;width:10px;height:10px;margin:0 3px 0 10px;vertical-align:middle}
.k1{background:#2da44e}.k4{background:#aceebb}.k2{background:#218bff}.k3{background:#cf222e}.kd0{background:#0969da}.kd1{background:#bf3989}
`;

/** Opens the collapsed runs around a linked message and marks it. */
export const SCRIPT = `(function(){function show(id){var e=document.getElementById(id);if(!e)return;for(var p=e.parentElement;p;p=p.parentElement)if(p.tagName==="DETAILS")p.open=true;var o=document.querySelectorAll(".hl");for(var i=0;i<o.length;i++)o[i].classList.remove("hl");e.classList.add("hl");e.scrollIntoView({block:"center"});}
addEventListener("hashchange",function(){show(decodeURIComponent(location.hash.slice(1)))});if(location.hash)show(decodeURIComponent(location.hash.slice(1)));})();`;

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

export function contentSecurityPolicy(): string {
  return `default-src 'none'; script-src ${sha256(SCRIPT)}; style-src ${sha256(STYLE)}; img-src 'none'; base-uri 'none'; form-action 'none'`;
}

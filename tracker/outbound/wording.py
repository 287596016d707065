"""The Vietnamese words of the statuses, one source for every document and the command line.

Documents (master.xlsx, its formulas included, the acceptance report, the merge report) are
Vietnamese always and use these words as they are; the command line shows them in its language
through `_()`: they are marked with `N_` for the catalogs here, where they are declared.
"""
from tracker.model.language import N_

# A product's result (tracker.stats.PRODUCT_KEYS); the master's formulas compute these very words.
STATUS = {"accepted": N_("Đạt (nghiệm thu)"), "not_accepted": N_("Không đạt"), "incomplete": N_("Chưa đủ"),
          "pending": N_("Chưa nhận")}
# A unit's deadline status (tracker.stats.DEADLINE_KEYS), also computed by the master's formulas.
DEADLINE = {"on_time": N_("Đúng hạn"), "late": N_("Muộn"), "missing": N_("Quá hạn, chưa nộp"),
            "waiting": N_("Đang chờ")}
# What became of a returned file (tracker.merge.FileResult.outcome): `tracker merge` lines, the merge report.
OUTCOME = {"accepted": N_("Đã nhận"), "replaced": N_("Đã nhận, thay bản trước"),
           "duplicate": N_("Đã ghép trước đó"), "rejected": N_("Từ chối"),
           "stale": N_("Đã nhận, lưu lịch sử (cũ hơn bản hiện có)"),
           # Not the unit's fault (our disk was full): not recorded, merged when given again.
           "not_merged": N_("Chưa ghép")}
# The same, shorter, in the narrow result column of the master's log sheet.
OUTCOME_SHORT = {"accepted": "Đã nhận", "replaced": "Thay bản trước", "duplicate": "Đã ghép trước đó",
                 "rejected": "Từ chối", "stale": "Bản cũ hơn, lưu lịch sử",
                 "not_merged": "Chưa ghép"}
# A unit's signed copy of the biên bản (stats CSV, master, reports).
SIGNED_KIND = {"digital": "Bản ký số", "scan": "Bản quét"}
SIGNED_VALID = {True: "Hợp lệ", False: "Chưa xác thực được", None: ""}
# What became of a signed copy in the merge report: (status, kind) -> words.
COPY_OUTCOME = {("attached", "digital"): "Đã nhận biên bản ký số", ("attached", "scan"): "Đã nhận biên bản quét",
                ("pending", "digital"): "Biên bản ký số, chờ cán bộ xác nhận",
                ("pending", "scan"): "Biên bản quét, chờ cán bộ xác nhận"}
# A unit with no valid reply that did send files, all refused (`tracker missing`, the report's lists).
SENT_REFUSED = N_("Đã gửi, bị từ chối")

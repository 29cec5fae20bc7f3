"""The one string table: every word a student sees, in 繁體中文 (default) and English.

Keys are namespaced by page (``descent.title``). Values may hold ``str.format``
fields, filled in by ``ui.t(key, **fields)``. ``tests/test_strings.py`` fails when
a key is missing in either language or the two disagree on their fields.
"""

LANGUAGES = {"zh": "繁體中文", "en": "English"}
DEFAULT_LANGUAGE = "zh"

STRINGS: dict[str, dict[str, str]] = {
    # --- app: navigation and shared pieces ---
    "app.title": {"zh": "深度學習入門：動手看懂", "en": "Deep Learning, Hands-on"},
    "app.language": {"zh": "語言 Language", "en": "Language 語言"},
    "app.section.home": {"zh": "首頁", "en": "Home"},
    "app.section.quick": {"zh": "快教程", "en": "Quick start"},
    "app.section.course": {"zh": "慢教程", "en": "Course"},
    "app.share": {
        "zh": "這一頁的設定都寫在網址裡：複製瀏覽器的網址，就能把同樣的設定分享給全班。",
        "en": "This page's settings live in the address bar: copy the URL to hand the exact setup to the class.",
    },
    "app.reset": {"zh": "恢復預設", "en": "Reset to defaults"},
    "app.try_it": {"zh": "動手試試", "en": "Try it"},
    "app.load": {"zh": "載入這個設定", "en": "Load this setup"},
    "app.error_generic": {
        "zh": "出了點問題，已經攔下來了：{detail}",
        "en": "Something went wrong and was caught: {detail}",
    },
    # --- page titles and what each page teaches (home page map) ---
    "page.home.title": {"zh": "課程地圖", "en": "Course map"},
    "page.quickstart.title": {"zh": "10 分鐘手寫數字識別", "en": "Handwritten digits in 10 minutes"},
    "page.quickstart.blurb": {
        "zh": "整條流程一頁走完：載入 MNIST、用課程的三層網路訓練 3 個 epoch、看準確率和預測。",
        "en": "The whole pipeline on one page: load MNIST, train the course's three-layer network for 3 epochs, see accuracy and predictions.",
    },
    "page.descent.title": {"zh": "1 梯度下降", "en": "1 Gradient descent"},
    "page.descent.blurb": {
        "zh": "在 loss = x²·sin x 上看 x 一步步往下走；學習率太大會怎樣；SGD、RMSprop、Adam 的路徑比一比。",
        "en": "Watch x walk down loss = x²·sin x step by step; what a too-large learning rate does; SGD, RMSprop and Adam side by side.",
    },
    "page.noise.title": {"zh": "2 噪聲與線性模型", "en": "2 Noise and the linear model"},
    "page.noise.blurb": {
        "zh": "真實資料帶著高斯噪聲 y = w·x + b + ε；用梯度下降把直線擬合回來，和最小平方法的解對照。",
        "en": "Real data carries Gaussian noise, y = w·x + b + ε; fit the line back by gradient descent and compare with least squares.",
    },
    "page.regression.title": {"zh": "3 回歸實戰 data.csv", "en": "3 Regression exercise: data.csv"},
    "page.regression.blurb": {
        "zh": "課程的實戰案例：compute_error_for_line_given_points、step_gradient、gradient_descent_runner，逐位重現課程印出的結果。",
        "en": "The course's exercise: compute_error_for_line_given_points, step_gradient, gradient_descent_runner, reproducing the course's printout digit for digit.",
    },
    "page.classification.title": {"zh": "4 從回歸到分類", "en": "4 From regression to classification"},
    "page.classification.blurb": {
        "zh": "Logistic 回歸把輸出壓到 [0, 1]；softmax 讓每個點的各類機率加起來等於 1；XOR 為什麼需要隱藏層。",
        "en": "Logistic regression squashes the output into [0, 1]; softmax makes each point's class probabilities add up to 1; why XOR needs hidden layers.",
    },
    "page.mnist_data.title": {"zh": "5a MNIST 資料集", "en": "5a The MNIST data"},
    "page.mnist_data.blurb": {
        "zh": "6 萬張訓練圖、1 萬張測試圖：每個數字真的有幾張、長什麼樣、平均起來像什麼。",
        "en": "60k training and 10k test images: how many of each digit there really are, what they look like, and their average.",
    },
    "page.mnist_network.title": {"zh": "5b 三層網路與非線性", "en": "5b Three layers and non-linearity"},
    "page.mnist_network.blurb": {
        "zh": "三個線性層疊起來仍然只是一個線性層；sigmoid、ReLU 和它們的導數；梯度離散（梯度消失）。",
        "en": "Three stacked linear layers are still one linear layer; sigmoid, ReLU and their derivatives; vanishing gradients.",
    },
    "page.mnist_train.title": {"zh": "5c 訓練 MNIST", "en": "5c Training on MNIST"},
    "page.mnist_train.blurb": {
        "zh": "自己調隱藏層、激活函數、損失、優化器和學習率，看 loss 曲線、混淆矩陣和認錯的圖。",
        "en": "Choose hidden sizes, activation, loss, optimizer and learning rate; watch the loss curve, the confusion matrix and the mistakes.",
    },
    "page.draw.title": {"zh": "6 寫一個數字", "en": "6 Draw a digit"},
    "page.draw.blurb": {
        "zh": "用滑鼠或手指寫一個數字，看網路實際看到的 28×28 圖和它對 0–9 的機率。",
        "en": "Write a digit with mouse or finger; see the 28×28 image the network actually sees and its probabilities for 0–9.",
    },
    # --- home ---
    "home.intro": {
        "zh": "這是一門深度學習入門課的互動教室。左邊是課程的章節：先用「快教程」十分鐘走完整條流程，再用「慢教程」一課一課拆開來看。每一頁都可以拉滑桿、按按鈕，親眼看見公式在做什麼。",
        "en": "An interactive classroom for an introductory deep-learning course. The sidebar follows the course: the quick start walks the whole pipeline in ten minutes, then the course takes it apart one lesson at a time. Every page has sliders and buttons, so you see what each formula does.",
    },
    "home.open": {"zh": "打開這一課 →", "en": "Open this lesson →"},
    "home.teacher": {
        "zh": "給老師：每一頁的設定都記在網址裡，複製網址就能把同一個設定發給全班；語言切換也在網址裡。",
        "en": "For teachers: every page keeps its settings in the URL, so copying the address hands the exact setup to the class; the language is in the URL too.",
    },
    # --- descent: descent (lesson 1) ---
    "descent.course": {
        "zh": "課程的例子：loss = x²·sin x。手算求導得 f′(x) = 2x·sin x + x²·cos x，每一步更新 x′ = x − lr·f′(x)。lr（學習率）讓每一步都很小，x 慢慢往下走、趨近一個谷底，最後在最優解附近波動。",
        "en": "The course's example: loss = x²·sin x. By hand, f′(x) = 2x·sin x + x²·cos x, and each step updates x′ = x − lr·f′(x). The learning rate lr keeps each step small, so x creeps down toward a valley and ends up wobbling around the optimum.",
    },
    "descent.x0": {"zh": "起點 x₀", "en": "Start x₀"},
    "descent.lr": {"zh": "學習率 lr（對數刻度）", "en": "Learning rate lr (log scale)"},
    "descent.steps": {"zh": "步數", "en": "Steps"},
    "descent.solvers": {"zh": "要疊在一起比較的求解器", "en": "Solvers to overlay"},
    "descent.hyper": {"zh": "求解器的超參數", "en": "Solver hyper-parameters"},
    "descent.hyper_note": {
        "zh": "預設值和 torch.optim 一樣（動量 μ 除外：torch 的預設是 0，也就是普通 SGD）。",
        "en": "Defaults are torch.optim's (except momentum μ: torch's default 0 would be plain SGD).",
    },
    "descent.momentum": {"zh": "動量 μ（Momentum）", "en": "Momentum μ"},
    "descent.alpha": {"zh": "RMSprop 的衰減率 α", "en": "RMSprop decay α"},
    "descent.beta1": {"zh": "Adam 的 β₁（梯度的平均）", "en": "Adam β₁ (average of the gradient)"},
    "descent.beta2": {"zh": "Adam 的 β₂（梯度平方的平均）", "en": "Adam β₂ (average of the squared gradient)"},
    "descent.eps": {"zh": "ε（RMSprop、Adam：避免除以 0）", "en": "ε (RMSprop, Adam: keeps the division away from 0)"},
    "descent.focus": {"zh": "看哪個求解器的公式和算式", "en": "Formula and arithmetic of"},
    "descent.stepwise": {"zh": "一步一步來", "en": "Step by step"},
    "descent.solver.sgd": {"zh": "SGD（課程的公式）", "en": "SGD (the course's rule)"},
    "descent.solver.momentum": {"zh": "SGD + 動量", "en": "SGD + momentum"},
    "descent.solver.rmsprop": {"zh": "RMSprop", "en": "RMSprop"},
    "descent.solver.adam": {"zh": "Adam", "en": "Adam"},
    "descent.no_solver": {
        "zh": "請至少選一個求解器，才有路徑可以畫。下面先只畫 loss 曲線。",
        "en": "Pick at least one solver to draw a path. Until then only the loss curve is drawn.",
    },
    "descent.chart.curve": {
        "zh": "loss 曲線與路徑（數字＝第幾步，▼＝谷底）",
        "en": "Loss curve and paths (numbers: steps, ▼: valley floors)",
    },
    "descent.chart.loss": {"zh": "loss 隨步數的變化", "en": "Loss against step"},
    "descent.chart.x": {"zh": "x 隨步數的變化（虛線：谷底）", "en": "x against step (dashed: valley floors)"},
    "descent.axis.step": {"zh": "步數", "en": "step"},
    "descent.axis.solver": {"zh": "求解器", "en": "solver"},
    "descent.axis.valley": {"zh": "谷底（局部最小值）", "en": "valley floor (local minimum)"},
    "descent.hidden": {
        "zh": "有 {count} 個點跑到 |x| > {cap} 之外，曲線圖上沒有畫出來；下面兩張圖有完整的路徑。",
        "en": "{count} points went beyond |x| > {cap} and are left off the curve; the two charts below show the whole path.",
    },
    "descent.verdict": {"zh": "發生了什麼？", "en": "What happened?"},
    "descent.v.converged": {
        "zh": "**{solver}**：收斂到 x ≈ {minimum:.3f}（loss ≈ {loss:.3f}），這是圖中最深的谷底。",
        "en": "**{solver}**: converged to x ≈ {minimum:.3f} (loss ≈ {loss:.3f}), the deepest valley in view.",
    },
    "descent.v.stuck": {
        "zh": "**{solver}**：停在局部最小值 x ≈ {minimum:.3f}（loss ≈ {loss:.3f}）。x ≈ {lowest:.3f} 還有更深的谷（loss ≈ {lowest_loss:.3f}），但谷底的梯度是 0，它出不去了。",
        "en": "**{solver}**: stuck in a local minimum at x ≈ {minimum:.3f} (loss ≈ {loss:.3f}). A deeper valley lies at x ≈ {lowest:.3f} (loss ≈ {lowest_loss:.3f}), but the gradient is 0 at a valley floor, so it cannot climb out.",
    },
    "descent.v.oscillating": {
        "zh": "**{solver}**：在最優解附近波動：x 在谷底 {minimum:.3f} 附近來回擺動（最遠偏離約 {amplitude:.3g}）。每一步都跨過了谷底；把學習率調小，它就會停下來。",
        "en": "**{solver}**: oscillating around the optimum: x swings back and forth around the valley floor {minimum:.3f} (up to about {amplitude:.3g} away). Each step overshoots the floor; a smaller learning rate lets it settle.",
    },
    "descent.v.approaching": {
        "zh": "**{solver}**：還在往谷底 x ≈ {minimum:.3f} 走，現在 x = {x:.3f}。步數不夠或學習率太小：多給幾步，或把 lr 調大一點。",
        "en": "**{solver}**: still walking toward the valley floor x ≈ {minimum:.3f}, now at x = {x:.3f}. Too few steps or too small a rate: give it more steps or a larger lr.",
    },
    "descent.v.stalled": {
        "zh": "**{solver}**：卡在 x ≈ {minimum:.3f} 的平坦處，現在 x = {x:.3f}。那裡 f′(x) = 0，但不是谷底（x = 0 是 x²·sin x 的反曲點）：梯度越來越小，步子也越來越小。",
        "en": "**{solver}**: stalled on the flat spot at x ≈ {minimum:.3f}, now at x = {x:.3f}. The slope f′(x) is 0 there but it is no valley (x = 0 is an inflection point of x²·sin x): the gradient shrinks, and so do the steps.",
    },
    "descent.v.wandering": {
        "zh": "**{solver}**：還沒有停在任何一個谷裡，在不同的谷之間跳來跳去（現在 x = {x:.3f}）。試試小一點的學習率或多幾步。",
        "en": "**{solver}**: not settled in any valley yet, jumping between valleys (now at x = {x:.3f}). Try a smaller learning rate or more steps.",
    },
    "descent.v.diverged": {
        "zh": "**{solver}**：發散了！第 {step} 步 |x| 超過 10⁶。學習率 {lr} 太大：每一步都跳得比上一步更遠，x 離谷底越來越遠。圖上只畫出爆掉之前的點。",
        "en": "**{solver}**: diverged! At step {step} |x| passed 10⁶. The learning rate {lr} is too large: every step jumps further than the last, away from any valley. The charts show the points before the blow-up.",
    },
    "descent.rule": {"zh": "{solver} 的更新公式", "en": "Update rule of {solver}"},
    "descent.table": {"zh": "前 {count} 步的數字", "en": "The first {count} steps in numbers"},
    "descent.table_note": {
        "zh": "SGD 走的一步就是 lr·f′(x)；其他求解器先把梯度做平均或縮放，所以「實際走的一步」不一樣。",
        "en": "SGD's step is exactly lr·f′(x); the other solvers average or rescale the gradient first, so their actual step differs.",
    },
    "descent.col.step": {"zh": "第 t 步", "en": "step t"},
    "descent.col.x": {"zh": "x", "en": "x"},
    "descent.col.grad": {"zh": "f′(x)", "en": "f′(x)"},
    "descent.col.lr_grad": {"zh": "lr·f′(x)", "en": "lr·f′(x)"},
    "descent.col.velocity": {"zh": "v（動量）", "en": "v (velocity)"},
    "descent.col.square_avg": {"zh": "s（平方的平均）", "en": "s (mean square)"},
    "descent.col.m_hat": {"zh": "m̂", "en": "m̂"},
    "descent.col.v_hat": {"zh": "v̂", "en": "v̂"},
    "descent.col.delta": {"zh": "實際走的一步", "en": "step taken"},
    "descent.col.new_x": {"zh": "新的 x", "en": "new x"},
    "descent.col.hand": {"zh": "手算 f′(x)", "en": "by hand f′(x)"},
    "descent.col.autograd": {"zh": "autograd 的 f′(x)", "en": "autograd f′(x)"},
    "descent.col.difference": {"zh": "相差", "en": "difference"},
    "descent.next": {"zh": "下一步 ▶", "en": "Next step ▶"},
    "descent.restart": {"zh": "回到起點", "en": "Back to the start"},
    "descent.step_at": {"zh": "第 {k} 步（共 {n} 步）", "en": "Step {k} of {n}"},
    "descent.step_start": {
        "zh": "這是起點 x₀ = {x:.4f}。按「下一步」，看 {solver} 的第一步怎麼算。",
        "en": "This is the start, x₀ = {x:.4f}. Press “Next step” to see how {solver} takes its first step.",
    },
    "descent.step_done": {"zh": "{n} 步都走完了。", "en": "All {n} steps are done."},
    "descent.step_blew": {
        "zh": "{solver} 的第 {step} 步讓 |x| 超過 10⁶：學習率太大，這條路徑停在這裡。",
        "en": "Step {step} of {solver} took |x| past 10⁶: the learning rate is too large, so this path stops here.",
    },
    "descent.step_hint": {
        "zh": "打開「一步一步來」，按「下一步」就能看到每一步的算式。",
        "en": "Turn on “Step by step” and press “Next step” to see each step's arithmetic.",
    },
    "descent.autograd": {"zh": "手算的導數 vs. PyTorch 的 autograd", "en": "The hand derivative vs. PyTorch's autograd"},
    "descent.autograd_intro": {
        "zh": "課程用手算出 f′(x) = 2x·sin x + x²·cos x；PyTorch 只看 loss = x²·sin x，用 autograd 自動求導。按下按鈕，在 x₀ 和最後的 x 上比一比（第一次要載入 PyTorch，約需幾秒）。",
        "en": "The course derives f′(x) = 2x·sin x + x²·cos x by hand; PyTorch sees only loss = x²·sin x and differentiates it by autograd. Press the button to compare them at x₀ and at the last x (the first time loads PyTorch, a few seconds).",
    },
    "descent.autograd_button": {"zh": "讓 PyTorch 算一次", "en": "Ask PyTorch"},
    "descent.autograd_loading": {"zh": "正在載入 PyTorch 並求導…", "en": "Loading PyTorch and differentiating…"},
    "descent.autograd_ok": {
        "zh": "兩個答案最多相差 {gap:.1e}，只是浮點數的捨入：手算的導數是對的。",
        "en": "The two answers differ by at most {gap:.1e}, mere floating-point rounding: the hand derivative is right.",
    },
    "descent.autograd_bad": {
        "zh": "兩個答案相差 {gap:.1e}，超出捨入誤差：請檢查導數。",
        "en": "The two answers differ by {gap:.1e}, more than rounding: check the derivative.",
    },
    "descent.try_diverge": {
        "zh": "**學習率太大會怎樣？** 從 x₀ = 3 出發、lr = 0.5：SGD 第一步就跳得很遠，之後一步比一步遠，發散了。",
        "en": "**What does too large a rate do?** From x₀ = 3 with lr = 0.5, SGD's first step already jumps far, each step goes further than the last: it diverges.",
    },
    "descent.try_basin": {
        "zh": "**換個起點，掉進另一個谷。** 從 x₀ = −6 出發，SGD 走進 x ≈ −8.10 這個最深的谷，而不是從 x₀ = 3 出發時停下的 x ≈ 5.09。",
        "en": "**Another start, another valley.** From x₀ = −6, SGD walks into the deepest valley at x ≈ −8.10, not the one at x ≈ 5.09 where the start x₀ = 3 ends.",
    },
    "descent.try_adam": {
        "zh": "**同一個起點，Adam vs. SGD。** 從 x₀ = 1、lr = 0.1 出發：SGD 在 x = 0 的平坦處越走越慢；Adam 把梯度按大小縮放，穿過平坦處，掉進 x ≈ −2.29 的谷。",
        "en": "**Same start, Adam vs. SGD.** From x₀ = 1 with lr = 0.1, SGD slows to a crawl on the flat spot at x = 0; Adam rescales the gradient by its size, crosses the flat spot and drops into the valley at x ≈ −2.29.",
    },
    # --- end descent ---
    # --- regression: noise and regression (lessons 2, 3) ---
    "regression.lr": {"zh": "學習率 lr", "en": "Learning rate lr"},
    "regression.iters": {"zh": "迭代次數 num_iterations", "en": "Iterations num_iterations"},
    "regression.iteration": {"zh": "迭代次數", "en": "iteration"},
    "regression.mse": {"zh": "平均平方誤差", "en": "mean squared error"},
    "regression.mse_log": {"zh": "平均平方誤差（對數座標）", "en": "mean squared error (log scale)"},
    "regression.count": {"zh": "點數", "en": "count"},
    "regression.line_true": {"zh": "真實直線", "en": "true line"},
    "regression.line_gd": {"zh": "梯度下降", "en": "gradient descent"},
    "regression.line_ls": {"zh": "公式解（最小平方法）", "en": "closed form (least squares)"},
    "regression.line_now": {"zh": "重播中的直線", "en": "replayed line"},
    "regression.contour_title": {"zh": "loss 曲面與下降路徑", "en": "The loss surface and the descent path"},
    "regression.contour_caption": {
        "zh": "橫軸是截距 b、縱軸是斜率；顏色越深 loss 越小。白線是梯度下降走過的路，紅色菱形是公式解（谷底）。",
        "en": "Intercept b across, slope up; darker means lower loss. The white line is the path descent took; the red diamond is the closed-form minimum (the bottom of the valley).",
    },
    "regression.loss_title": {"zh": "loss 隨迭代下降（對數座標）", "en": "Loss against iteration (log scale)"},
    "regression.loss_zero": {
        "zh": "loss 已經是 0，對數座標畫不出來：直線剛好穿過每一個點。",
        "en": "The loss is exactly 0, which a log axis cannot show: the line passes through every point.",
    },
    "regression.col_line": {"zh": "直線", "en": "line"},
    "regression.col_mean": {"zh": "平均 loss（MSE）", "en": "mean loss (MSE)"},
    "regression.col_sum": {"zh": "總和 loss（Σ）", "en": "sum loss (Σ)"},
    "regression.no_spread": {
        "zh": "所有的 x 都相同：沒有唯一的最佳直線，所以不畫公式解。",
        "en": "All x values are the same: there is no single best line, so no closed form is drawn.",
    },
    "regression.diverged": {
        "zh": "學習率 {lr} 對這份資料太大了：從第 {step} 步開始 error 不降反升，每一步都跳得更遠。原因是 x 的尺度：斜率的梯度要乘上 x，x 越大，每一步跨得越大，跨過谷底後反而落到更高的地方。這份資料能穩定下降的學習率上限約為 {lr_max}。",
        "en": "The learning rate {lr} is too large for this data: from step {step} on the error grows instead of shrinking, and every step overshoots further. The cause is the scale of x: the slope's gradient is multiplied by x, so the larger x is, the longer each step, until it jumps past the bottom of the valley and lands higher up. On this data descent is stable only below a learning rate of about {lr_max}.",
    },
    # noise page (lesson 2)
    "regression.noise.intro": {
        "zh": "真實的觀測值都帶著高斯噪聲：y = w·x + b + ε，ε ~ N(μ, σ²)（課程用的是 N(0.01, 1)）。我們看不到真實的 w 和 b，只看得到這些點；用梯度下降把 loss = Σᵢ (w·xᵢ + b − yᵢ)² 降到最低，找出最貼近資料的直線，再和最小平方法的公式解對照。",
        "en": "Real observations carry Gaussian noise: y = w·x + b + ε, with ε ~ N(μ, σ²) (the course uses N(0.01, 1)). We never see the true w and b, only the points; gradient descent lowers loss = Σᵢ (w·xᵢ + b − yᵢ)² to find the line closest to the data, and we compare it with the closed-form least-squares answer.",
    },
    "regression.noise.data_header": {"zh": "資料：真實直線 + 噪聲", "en": "The data: a true line plus noise"},
    "regression.noise.w": {"zh": "真實斜率 w", "en": "True slope w"},
    "regression.noise.b": {"zh": "真實截距 b", "en": "True intercept b"},
    "regression.noise.noise_mean": {"zh": "噪聲平均值 μ", "en": "Noise mean μ"},
    "regression.noise.noise_std": {"zh": "噪聲散布 σ（標準差）", "en": "Noise spread σ (standard deviation)"},
    "regression.noise.n": {"zh": "點數 N", "en": "Number of points N"},
    "regression.noise.seed": {"zh": "隨機種子", "en": "Random seed"},
    "regression.noise.fit_header": {"zh": "梯度下降", "en": "Gradient descent"},
    "regression.noise.start_note": {
        "zh": "梯度下降從 b = 0、w = 0 出發；x 落在 0 到 10 之間。",
        "en": "Descent starts from b = 0, w = 0; x lies between 0 and 10.",
    },
    "regression.noise.scatter_title": {"zh": "資料、真實直線和擬合的直線", "en": "The data, the true line and the fitted lines"},
    "regression.noise.compare_title": {"zh": "梯度下降 vs 公式解", "en": "Gradient descent vs the closed form"},
    "regression.noise.gap": {
        "zh": "{iters} 步之後，梯度下降和公式解的差距：w 差 {dw}、b 差 {db}。",
        "en": "After {iters} steps, gradient descent is this far from the closed form: {dw} in w, {db} in b.",
    },
    "regression.noise.why_sum_title": {"zh": "為什麼用總和 Σ 和用平均，最低點是同一個？", "en": "Why do the sum Σ and the mean have the same minimum?"},
    "regression.noise.why_sum": {
        "zh": "課程把 loss 寫成總和 Σᵢ (w·xᵢ + b − yᵢ)²，程式裡的 compute_error_for_line_given_points 卻除以 N 取平均。兩者的最低點在同一個 (b, w)：平均只是總和乘上一個正的常數 1/N（這裡 N = {n}），整個 loss 曲面等比例壓扁，但最低點的位置不會移動，上表的「總和」欄正好是「平均」欄的 N 倍。不同的是梯度：總和的梯度是平均的 N 倍，所以用總和時，同樣的學習率每一步會大 N 倍；用平均，學習率就不必跟著點數調整。",
        "en": "The course writes the loss as a sum, Σᵢ (w·xᵢ + b − yᵢ)², while its code compute_error_for_line_given_points divides by N and takes the mean. Both have their lowest point at the same (b, w): the mean is the sum times the positive constant 1/N (here N = {n}), which squashes the whole loss surface evenly but cannot move its lowest point; in the table the sum column is exactly N times the mean column. What changes is the gradient: the sum's gradient is N times the mean's, so with the sum the same learning rate takes N-times larger steps; with the mean, the learning rate need not change with the number of points.",
    },
    "regression.noise.hist_title": {"zh": "噪聲 ε 的分布", "en": "The noise ε"},
    "regression.noise.hist_caption": {
        "zh": "這些點的噪聲平均是 {mean}、標準差是 {std}；設定值是 μ = {set_mean}、σ = {set_std}。點越少，樣本的平均和散布離設定值越遠，擬合出來的直線也就離真實直線越遠。",
        "en": "These points' noise has mean {mean} and standard deviation {std}; the settings are μ = {set_mean}, σ = {set_std}. The fewer the points, the further the sample strays from the settings, and the further the fitted line strays from the true one.",
    },
    "regression.noise.try_clean": {
        "zh": "把噪聲關掉（σ = 0、μ = 0）：梯度下降和公式解都回到真實的直線。",
        "en": "Switch the noise off (σ = 0, μ = 0): descent and the closed form both recover the true line.",
    },
    "regression.noise.try_few": {
        "zh": "只有 8 個點、噪聲很大：擬合的直線離真實直線有多遠？換幾個隨機種子看看。",
        "en": "Only 8 points and a lot of noise: how far is the fitted line from the true one? Try a few seeds.",
    },
    "regression.noise.try_mean": {
        "zh": "噪聲平均 μ = 3：整條擬合直線往上平移，多出來的平均被截距 b 吸收了。",
        "en": "Noise mean μ = 3: the whole fitted line moves up; the intercept b absorbs the extra mean.",
    },
    "regression.noise.try_lr": {
        "zh": "學習率 0.03：比這份資料的上限大一點點，loss 就越跳越高。",
        "en": "Learning rate 0.03: just above this data's limit, and the loss climbs higher with every step.",
    },
    "regression.noise.try_slow": {
        "zh": "學習率 0.001：每一步都很小，1000 步之後還沒走到谷底。",
        "en": "Learning rate 0.001: every step is tiny, and after 1000 steps descent has not reached the bottom.",
    },
    # regression page (lesson 3)
    "regression.intro": {
        "zh": "課程的實戰案例：compute_error_for_line_given_points 算平均平方誤差，step_gradient 走一步，gradient_descent_runner 走 num_iterations 步。預設就是課程的設定：學習率 0.0001、從 b = 0、m = 0 出發、迭代 1000 次。",
        "en": "The course's exercise: compute_error_for_line_given_points measures the mean squared error, step_gradient takes one step, gradient_descent_runner takes num_iterations of them. The defaults are the course's: learning rate 0.0001, starting from b = 0, m = 0, 1000 iterations.",
    },
    "regression.try_big_lr": {
        "zh": "學習率放大 10 倍到 0.001：error 不降反升，幾步之內就爆掉。",
        "en": "Ten times the learning rate, 0.001: the error grows instead of shrinking and explodes within a few steps.",
    },
    "regression.try_normalise": {
        "zh": "打開「標準化 x」、學習率 0.1：100 步就走到公式解。",
        "en": "Switch on “Standardise x” with learning rate 0.1: 100 steps reach the closed form.",
    },
    "regression.try_long": {
        "zh": "用課程的學習率走 10,000 步：m 早就到了，b 還在慢慢爬。",
        "en": "The course's learning rate for 10,000 steps: m arrived long ago, b is still creeping.",
    },
    "regression.try_far": {
        "zh": "從很遠的地方出發（b = 60、m = −5）：看路徑怎麼先沿著陡的方向衝進谷底。",
        "en": "Start far away (b = 60, m = −5): watch the path rush down the steep direction into the valley first.",
    },
    "regression.data_header": {"zh": "資料", "en": "Data"},
    "regression.data_source": {"zh": "用哪一份資料", "en": "Which data"},
    "regression.data_example": {"zh": "範例資料", "en": "The example"},
    "regression.data_upload": {"zh": "上傳自己的 CSV", "en": "Upload your own CSV"},
    "regression.upload_label": {
        "zh": "上傳 CSV 檔：兩欄數字 x、y，第一列可以是標題",
        "en": "Upload a CSV file: two numeric columns x, y, optionally a header row",
    },
    "regression.upload_help": {
        "zh": "例如課程的 data.csv。逗號分隔、UTF-8 編碼，最多 1,000,000 列。",
        "en": "For example the course's data.csv. Comma-separated, UTF-8, at most 1,000,000 rows.",
    },
    "regression.err_title": {"zh": "讀不了「{name}」：", "en": "Cannot read “{name}”:"},
    "regression.using_upload": {"zh": "正在使用你上傳的「{name}」：{n} 個點。", "en": "Using your file “{name}”: {n} points."},
    "regression.upload_waiting": {
        "zh": "還沒有可以用的上傳檔案，先用範例資料。",
        "en": "No usable upload yet, so the example data is used for now.",
    },
    "regression.using_example": {
        "zh": "範例資料：{n} 個點，由專案自己的 make_noisy_line 以固定的隨機種子產生（data/example.csv）。",
        "en": "The example: {n} points made by the project's own make_noisy_line with a fixed seed (data/example.csv).",
    },
    "regression.download_example": {"zh": "下載範例 CSV（可以改一改再上傳）", "en": "Download the example CSV (edit it and upload it back)"},
    "regression.controls_header": {"zh": "設定", "en": "Settings"},
    "regression.b0": {"zh": "起始 b（initial_b）", "en": "Starting b (initial_b)"},
    "regression.m0": {"zh": "起始 m（initial_m）", "en": "Starting m (initial_m)"},
    "regression.normalise": {"zh": "標準化 x", "en": "Standardise x"},
    "regression.normalise_help": {
        "zh": "先把 x 換成 (x − 平均) / 標準差 再做梯度下降，結果再換算回原本的單位。",
        "en": "Replace x by (x − mean) / standard deviation for the descent, then convert the results back to the data's units.",
    },
    "regression.course_button": {"zh": "恢復課程的設定", "en": "Restore the course's values"},
    "regression.running": {"zh": "梯度下降計算中……", "en": "Running gradient descent..."},
    "regression.no_spread_normalise": {
        "zh": "所有的 x 都相同，無法標準化，這次照原樣計算。",
        "en": "All x values are the same, so x cannot be standardised; this run uses x as it is.",
    },
    "regression.transcript_header": {"zh": "課程的輸出", "en": "The course's printout"},
    "regression.transcript_caption": {
        "zh": "課程 run() 印出的三行，格式一字不差。上傳課程的 data.csv、用課程的設定，就能逐位重現課程的結果。",
        "en": "The three lines the course's run() prints, in its exact format. Upload the course's data.csv with the course's values and the printout matches the course digit for digit.",
    },
    "regression.normalised_note": {
        "zh": "x 已先標準化：x′ = (x − {mean}) / {std}。梯度下降在 x′ 上進行；上面的輸出、下面的 b、m 和所有的圖都已換算回資料原本的單位（同一條直線 y = m·x + b）。",
        "en": "x was standardised first: x′ = (x − {mean}) / {std}. Descent ran on x′; the printout above, the b and m below and every chart are converted back to the data's own units (the same line y = m·x + b).",
    },
    "regression.fix_hint": {
        "zh": "解法：把 x 標準化（減去平均、除以標準差），讓 x 的尺度變成 1 左右；這樣學習率 0.1 就又快又穩，b、m 仍會換算回原本的單位。",
        "en": "The fix: standardise x (subtract its mean, divide by its standard deviation) so x is of size about 1; then a learning rate of 0.1 is fast and stable, and b, m are still converted back to the data's units.",
    },
    "regression.fix_button": {"zh": "標準化 x，學習率改成 0.1", "en": "Standardise x and use learning rate 0.1"},
    "regression.lr_max_note": {
        "zh": "這份資料能穩定下降的學習率上限約為 {lr_max}（2 除以 loss 曲面最陡方向的曲率）。",
        "en": "On this data descent is stable below a learning rate of about {lr_max} (2 divided by the loss surface's steepest curvature).",
    },
    "regression.replay_header": {"zh": "重播", "en": "Replay"},
    "regression.replay": {"zh": "看第幾步之後的直線", "en": "Show the line after step"},
    "regression.replay_title": {
        "zh": "第 {k} 步之後：b = {b}、m = {m}、error = {err}",
        "en": "After step {k}: b = {b}, m = {m}, error = {err}",
    },
    "regression.not_a_number": {
        "zh": "第 {k} 步的 b 或 m 已經不是有限的數（溢位了），畫不出這條直線。",
        "en": "At step {k}, b or m is no longer a finite number (it overflowed), so the line cannot be drawn.",
    },
    "regression.sampled": {"zh": "圖上畫出 {total} 個點中的 {shown} 個。", "en": "The chart shows {shown} of the {total} points."},
    "regression.error_title": {"zh": "error 隨迭代的變化（對數座標）", "en": "The error against iteration (log scale)"},
    "regression.contour_diverged": {
        "zh": "下降發散了：路徑很快就跑出這張圖的範圍。",
        "en": "Descent diverged: the path soon leaves this picture.",
    },
    "regression.compare": {
        "zh": "**公式解（最小平方法）**：b = {b}、m = {m}、error = {err}。**梯度下降 {k} 步之後**：b = {gb}、m = {gm}、error = {gerr}。",
        "en": "**Closed form (least squares)**: b = {b}, m = {m}, error = {err}. **Gradient descent after {k} steps**: b = {gb}, m = {gm}, error = {gerr}.",
    },
    "regression.why_b_slow": {
        "zh": "如果 m 已經很接近公式解、b 卻還差很遠：斜率的梯度要乘上 x，當 x 很大（課程的資料 x 約在 20 到 80 之間），loss 沿著 m 的方向比沿著 b 陡上好幾十倍。學習率必須小到 m 方向不會爆掉，b 方向就幾乎不動，等高線圖上的谷是一條又長又平的溝。把 x 標準化之後，兩個方向一樣陡，幾十步就能走到底。",
        "en": "If m is already close to the closed form but b is still far off: the slope's gradient is multiplied by x, and when x is large (the course's x lies between about 20 and 80) the loss is dozens of times steeper along m than along b. The learning rate must be small enough that m does not blow up, so b hardly moves; on the contour the valley is a long, flat trench. Standardise x and both directions are equally steep: a few dozen steps reach the bottom.",
    },
    # load_points' refusals (fields as in lessons.regression.ERROR_MESSAGES)
    "regression.err.empty": {"zh": "檔案是空的，沒有可以讀的資料列。", "en": "The file is empty: there are no rows to read."},
    "regression.err.too_big": {
        "zh": "檔案超過 {limit_mb} MB；一份點的 CSV 應該小得多。",
        "en": "The file is larger than {limit_mb} MB; a CSV of points is far smaller.",
    },
    "regression.err.binary": {
        "zh": "這不是文字檔（看起來像圖片、試算表或其他二進位檔），問題出現在第 {line} 行附近。請另存成 CSV 文字檔。",
        "en": "This is not a text file (it looks like an image, a spreadsheet or another binary file); near line {line}. Save the data as CSV text.",
    },
    "regression.err.utf16": {
        "zh": "檔案是以 UTF-16/UTF-32 Unicode 文字儲存的，請另存成 UTF-8 編碼的 CSV。",
        "en": "The file is saved as UTF-16/UTF-32 Unicode text. Save it as UTF-8 CSV.",
    },
    "regression.err.encoding": {
        "zh": "第 {line} 行不是 UTF-8 文字（編碼不對，例如 Big5）。請另存成 UTF-8 編碼的 CSV。",
        "en": "Line {line} is not UTF-8 text (wrong encoding, e.g. Big5). Save the file as UTF-8 CSV.",
    },
    "regression.err.header_only": {
        "zh": "第 {line} 行是標題列，但後面沒有任何資料列。",
        "en": "Line {line} is a header, but no data rows follow it.",
    },
    "regression.err.too_few_rows": {
        "zh": "只有一列資料（第 {line} 行）；一條直線至少需要兩個點。",
        "en": "Only one data row (line {line}); a line needs at least two points.",
    },
    "regression.err.columns": {
        "zh": "第 {line} 行有 {found} 欄；檔案必須剛好有兩欄：x 和 y。",
        "en": "Line {line} has {found} column(s); the file needs exactly two columns, x and y.",
    },
    "regression.err.ragged": {
        "zh": "第 {line} 行有 {found} 欄，但第 {first} 行有兩欄：每一列都必須剛好兩欄。",
        "en": "Line {line} has {found} column(s), but line {first} has two: every row needs exactly two.",
    },
    "regression.err.empty_cell": {"zh": "第 {line} 行第 {column} 欄是空的。", "en": "Line {line}, column {column} is empty."},
    "regression.err.text": {
        "zh": "第 {line} 行第 {column} 欄：「{cell}」不是數字。",
        "en": "Line {line}, column {column}: “{cell}” is not a number.",
    },
    "regression.err.not_finite": {
        "zh": "第 {line} 行第 {column} 欄：「{cell}」不是有限的數（NaN 或無限大）。",
        "en": "Line {line}, column {column}: “{cell}” is not a finite number (NaN or infinity).",
    },
    "regression.err.overflow": {
        "zh": "第 {line} 行第 {column} 欄：「{cell}」太大了，超出 64 位元浮點數的範圍（會變成無限大）。",
        "en": "Line {line}, column {column}: “{cell}” is too large for a 64-bit number (it overflows to infinity).",
    },
    "regression.err.too_many_rows": {
        "zh": "資料超過 {limit} 列（第 {line} 行已超過上限）。",
        "en": "More than {limit} data rows (line {line} is past the limit).",
    },
    # --- end regression ---
    # --- classification: classification (lesson 4) ---
    "classification.try_steep": {
        "zh": "**sigmoid 變成階梯：** 把 w 拉到 10。直線變陡，σ 幾乎從 0 一下跳到 1，跳的位置在 x = −b/w。",
        "en": "**Sigmoid turns into a step:** pull w up to 10. The line gets steep and σ jumps from almost 0 to almost 1 at x = −b/w.",
    },
    "classification.try_xor": {
        "zh": "**XOR 學不會：** 同色的點在對角線上，沒有任何一條直線分得開。訓練 1000 步，準確率仍然停在 50% 左右——這就是下一課要加隱藏層的原因。",
        "en": "**XOR fails:** same-colour points sit on opposite corners, and no straight line separates them. After 1000 steps the accuracy still hovers near 50% — the reason the next lesson adds hidden layers.",
    },
    "classification.try_noise": {
        "zh": "**更多噪聲：** 三團重疊的點，噪聲 1.5。邊界依然是直線，但區域的顏色變淡：模型沒那麼有把握了，準確率也下降。",
        "en": "**More noise:** three overlapping blobs with noise 1.5. The boundaries stay straight, but the regions fade: the model is less sure, and the accuracy drops.",
    },
    "classification.try_moons": {
        "zh": "**兩個月亮：** 真正的邊界是彎的，線性模型只能畫直線，總有幾個點分錯。",
        "en": "**Two moons:** the true boundary is curved; a linear model can only draw a straight line, so some points always end up on the wrong side.",
    },
    "classification.try_slow": {
        "zh": "**學習率小、步數少：** 比較下面 MSE 和交叉熵的區域顏色深淺——同樣 50 步，交叉熵推得更有把握。",
        "en": "**Small learning rate, few steps:** compare how dark the regions are for MSE and cross-entropy below — after the same 50 steps, cross-entropy is more confident.",
    },
    "classification.sigmoid_header": {"zh": "Sigmoid：把直線壓進 [0, 1]", "en": "Sigmoid: squashing a line into [0, 1]"},
    "classification.sigmoid_intro": {
        "zh": "線性回歸的輸出 z = w·x + b 可以是任何數。Logistic 回歸在外面套一個 sigmoid，把它壓進 0 到 1 之間，就能當成「屬於第 1 類的機率」。拉動 w 和 b，看直線和 σ(z) 一起變。",
        "en": "Linear regression's output z = w·x + b can be any number. Logistic regression wraps it in a sigmoid, which squashes it between 0 and 1, so it can be read as \"the probability of class 1\". Move w and b and watch the line and σ(z) change together.",
    },
    "classification.w": {"zh": "權重 w（斜率）", "en": "weight w (slope)"},
    "classification.b": {"zh": "偏置 b", "en": "bias b"},
    "classification.sigmoid_half": {
        "zh": "σ = 0.5 的位置（直線穿過 0 的地方）：x = −b/w = {x}",
        "en": "σ = 0.5 where the line crosses 0: x = −b/w = {x}",
    },
    "classification.sigmoid_flat": {
        "zh": "w = 0：直線是水平的，σ 處處都等於 σ(b) = {p}，x 不再有影響。",
        "en": "w = 0: the line is flat, so σ is σ(b) = {p} everywhere and x no longer matters.",
    },
    "classification.curve_line": {"zh": "直線 z = w·x + b", "en": "line z = w·x + b"},
    "classification.curve_sigmoid": {"zh": "σ(w·x + b)", "en": "σ(w·x + b)"},
    "classification.axis_value": {"zh": "數值", "en": "value"},
    "classification.sigmoid_caption": {
        "zh": "淡色帶是 [0, 1]。直線會一路衝出去，σ 卻永遠留在帶子裡：z 很大時接近 1，z 很小時接近 0。",
        "en": "The shaded band is [0, 1]. The line shoots out of it; σ never leaves it: close to 1 for large z, close to 0 for very negative z.",
    },
    "classification.fit_header": {"zh": "平面上的分類", "en": "Classification in the plane"},
    "classification.fit_intro": {
        "zh": "每個點有兩個特徵 (x₁, x₂)。兩類時用 logistic 回歸；更多類時，每一類各有一條 z_k = w_k·x + b_k，再用 softmax 把它們變成加起來等於 1 的機率。模型用梯度下降訓練，和回歸那一課是同一個迴圈。",
        "en": "Each point has two features (x₁, x₂). With two classes the model is logistic regression; with more, each class k gets its own score z_k = w_k·x + b_k and softmax turns the scores into probabilities that add up to 1. It is trained by gradient descent, the same loop as in the regression lesson.",
    },
    "classification.data": {"zh": "資料集", "en": "data set"},
    "classification.data_blobs": {"zh": "分得開的幾團", "en": "separable blobs"},
    "classification.data_overlap": {"zh": "重疊的幾團", "en": "overlapping blobs"},
    "classification.data_moons": {"zh": "兩個月亮", "en": "two moons"},
    "classification.data_xor": {"zh": "XOR（對角同類）", "en": "XOR (diagonal classes)"},
    "classification.classes": {"zh": "類別數", "en": "number of classes"},
    "classification.classes_help": {
        "zh": "只對「幾團」資料有用；兩個月亮和 XOR 固定是 2 類。",
        "en": "Used by the blob data sets; two moons and XOR always have 2 classes.",
    },
    "classification.noise": {"zh": "噪聲", "en": "noise"},
    "classification.seed": {"zh": "隨機種子（換一批點）", "en": "random seed (another sample)"},
    "classification.lr": {"zh": "學習率 lr", "en": "learning rate lr"},
    "classification.steps": {"zh": "梯度下降步數", "en": "gradient-descent steps"},
    "classification.loss": {"zh": "損失函數", "en": "loss"},
    "classification.loss_cross_entropy": {"zh": "交叉熵", "en": "cross-entropy"},
    "classification.loss_mse": {"zh": "均方誤差 MSE（對 one-hot）", "en": "squared error MSE (vs one-hot)"},
    "classification.training": {"zh": "訓練中…", "en": "Training…"},
    "classification.two_only": {
        "zh": "這個資料集固定只有 2 類，所以「類別數」滑桿暫時不起作用。",
        "en": "This data set always has 2 classes, so the number-of-classes slider has no effect here.",
    },
    "classification.class_name": {"zh": "第 {k} 類", "en": "class {k}"},
    "classification.legend_class": {"zh": "類別", "en": "class"},
    "classification.tip_predicted": {"zh": "模型預測", "en": "predicted"},
    "classification.tip_label": {"zh": "真實類別", "en": "true class"},
    "classification.regions_caption": {
        "zh": "底色是模型在每個位置預測的類別，顏色越深代表越有把握；圓點是訓練資料的真實類別。點一下圖上任何地方，就會把下面的「選一個點」移過去。",
        "en": "The background is the class the model predicts at each spot, darker where it is more sure; the dots are the training points in their true colours. Click anywhere on the chart to move the point picked below.",
    },
    "classification.model_logistic": {
        "zh": "**模型：** logistic 回歸，P(第 1 類) = σ(w₁x₁ + w₂x₂ + b)。",
        "en": "**Model:** logistic regression, P(class 1) = σ(w₁x₁ + w₂x₂ + b).",
    },
    "classification.model_softmax": {
        "zh": "**模型：** softmax 回歸，{k} 類各有一組 (w, b)，機率 = softmax(z)。",
        "en": "**Model:** softmax regression, one (w, b) for each of the {k} classes, probabilities = softmax(z).",
    },
    "classification.metric_loss": {"zh": "最後的 loss", "en": "final loss"},
    "classification.metric_train": {"zh": "訓練準確率", "en": "training accuracy"},
    "classification.metric_test": {"zh": "測試準確率", "en": "test accuracy"},
    "classification.metric_test_help": {
        "zh": "在 1000 個沒參加訓練、但來自同一個分布的新點上的準確率。",
        "en": "Accuracy on 1000 new points from the same distribution that the model never trained on.",
    },
    "classification.axis_step": {"zh": "步數", "en": "step"},
    "classification.axis_accuracy": {"zh": "準確率", "en": "accuracy"},
    "classification.axis_probability": {"zh": "機率", "en": "probability"},
    "classification.axis_sum": {"zh": "累加的機率（到 1 剛好結束）", "en": "probabilities stacked (they end exactly at 1)"},
    "classification.bar_total": {"zh": "合計", "en": "total"},
    "classification.xor_fails": {
        "zh": "線性模型在 XOR 上失敗了：新資料準確率只有 {acc}，和亂猜差不多。任何一條直線都只能把平面切成兩半，而 XOR 的同類點在對角。下一課的隱藏層（疊加非線性）就是來解決這件事的。",
        "en": "The linear model fails on XOR: {acc} on new points, about as good as guessing. A straight line can only cut the plane in two halves, and XOR's classes sit on opposite corners. The hidden layers of the next lesson (stacked non-linearities) are there to fix exactly this.",
    },
    "classification.moons_note": {
        "zh": "兩個月亮的真正邊界是彎的，直線只能近似：不管訓練多久，總有一些點分錯。",
        "en": "The true boundary between the moons is curved and a straight line can only approximate it: however long you train, some points stay on the wrong side.",
    },
    "classification.point_header": {"zh": "選一個點：softmax 的機率加起來等於 1", "en": "Pick a point: softmax probabilities add up to 1"},
    "classification.point_intro": {
        "zh": "在上面的圖上點一下，或用滑桿移動黑色十字。右邊是這個點代進公式的每一步，左邊是它屬於各類的機率。",
        "en": "Click on the chart above, or move the black cross with the sliders. On the right, every step of the formula with this point's numbers; on the left, its probability for each class.",
    },
    "classification.two_is_softmax": {
        "zh": "兩類時，σ(z) 正好等於 softmax(0, z) 的第二項：logistic 回歸就是只有兩類的 softmax。",
        "en": "With two classes, σ(z) is exactly the second entry of softmax(0, z): logistic regression is softmax with two classes.",
    },
    "classification.compare_header": {"zh": "MSE 和交叉熵：同一份資料並排訓練", "en": "MSE and cross-entropy, trained side by side on the same data"},
    "classification.compare_intro": {
        "zh": "課程訓練 MNIST 時用的是對 one-hot 目標的平方誤差（MSE）；分類更常用交叉熵。這裡用同樣的資料、學習率和步數各訓練一次。",
        "en": "The course trains MNIST with the squared error against one-hot targets (MSE); classification more often uses cross-entropy. Here both are trained on the same data with the same learning rate and steps.",
    },
    "classification.compare_caption": {
        "zh": "兩者畫出的邊界通常很接近，但交叉熵對分錯的點推得更用力（梯度是 p − y），MSE 的梯度還要乘上 σ 的斜率，在模型很有把握時幾乎為 0，所以學得較慢、把握也較小。兩種 loss 的數值不能直接比較，比準確率。",
        "en": "The boundaries are usually close, but cross-entropy pushes harder on wrong points (its gradient is p − y), while the MSE gradient is also multiplied by the slope of σ, which is nearly 0 where the model is sure — so it learns more slowly and less confidently. The two loss values are not comparable; compare the accuracies.",
    },
    "classification.axis_loss": {"zh": "損失 loss", "en": "loss"},
    # --- end classification ---
    # --- mnist: mnist pages (quick start, lesson 5) ---
    "mnist.source_real": {
        "zh": "資料：真正的 MNIST（{folder}），{n_train} 張訓練圖、{n_test} 張測試圖。",
        "en": "Data: the real MNIST ({folder}), {n_train} training and {n_test} test images.",
    },
    "mnist.source_fallback": {
        "zh": "找不到 MNIST，所以這裡改用 scikit-learn 附帶的真實手寫數字（1,797 張 8×8 的圖，放大成 28×28）：{n_train} 張訓練圖、{n_test} 張測試圖。整條流程一樣能跑，只是資料少得多、也比較粗。",
        "en": "MNIST was not found, so this uses the real handwritten digits that scikit-learn ships instead (1,797 images of 8×8, scaled up to 28×28): {n_train} training and {n_test} test images. The whole pipeline works the same, on far less and coarser data.",
    },
    "mnist.source_problem": {"zh": "原因：{problem}", "en": "Why: {problem}"},
    "mnist.how_to_get": {
        "zh": "**怎麼拿到真正的 MNIST：** 連上網路後按下面的按鈕（下載到 `data/MNIST/raw`），或執行 `python -m lessons.mnist --fetch`（`make run` 會自動試一次）；也可以把四個檔案 `train-images-idx3-ubyte.gz`、`train-labels-idx1-ubyte.gz`、`t10k-images-idx3-ubyte.gz`、`t10k-labels-idx1-ubyte.gz` 複製到 `data/MNIST/raw`，或用環境變數 `MNIST_DIR` 指向放著它們的資料夾，然後重新啟動 app。",
        "en": "**How to get the real MNIST:** when online, press the button below (it downloads into `data/MNIST/raw`), or run `python -m lessons.mnist --fetch` (`make run` tries it once); or copy the four files `train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`, `t10k-images-idx3-ubyte.gz`, `t10k-labels-idx1-ubyte.gz` into `data/MNIST/raw`, or point the `MNIST_DIR` environment variable at a folder holding them, then restart the app.",
    },
    "mnist.download": {"zh": "下載 MNIST", "en": "Download MNIST"},
    "mnist.downloading": {"zh": "正在下載 MNIST（約 11 MB）…", "en": "Downloading MNIST (about 11 MB)…"},
    "mnist.download_failed": {
        "zh": "沒有下載成功：這台電腦大概連不上網路。可以照上面的說明手動把檔案放進去；在那之前，這裡繼續用 scikit-learn 的手寫數字。",
        "en": "The download did not work: this machine is probably offline. Put the files in place by hand as described above; until then, this keeps using scikit-learn's digits.",
    },
    "mnist.axis_step": {"zh": "第幾步（batch）", "en": "step (batch)"},
    "mnist.axis_loss": {"zh": "loss", "en": "loss"},
    "mnist.axis_epoch": {"zh": "epoch", "en": "epoch"},
    "mnist.diverged": {
        "zh": "loss 爆掉了（變成無窮大或 NaN）：學習率太大，每一步都跨過了頭。圖上只畫出有限的 loss；把學習率調小再訓練一次。",
        "en": "The loss blew up (to infinity or NaN): the learning rate is too large, every step overshoots. The chart shows only the finite losses; lower the learning rate and train again.",
    },
    "mnist.no_loss": {
        "zh": "沒有可以畫的 loss：從第一步起就不是有限的數。",
        "en": "No loss to draw: it was not a finite number from the very first step.",
    },
    "mnist.training": {"zh": "訓練中…", "en": "Training…"},
    "mnist.training_shared": {
        "zh": "如果同學剛好在用一模一樣的設定訓練，你會等他那一次訓練完，直接拿到同一個模型。",
        "en": "If a classmate is training with exactly these settings right now, you wait for that run and get the same model.",
    },
    "mnist.progress": {"zh": "已完成 {percent}%", "en": "{percent}% done"},
    "mnist.trained": {"zh": "訓練完成（{seconds} 秒）", "en": "Trained ({seconds} s)"},
    "mnist.label": {"zh": "標籤 {digit}", "en": "label {digit}"},
    "mnist.accuracy": {"zh": "測試準確率", "en": "Test accuracy"},
    "mnist.seconds": {"zh": "訓練時間", "en": "Training time"},
    "mnist.prediction_ok": {"zh": "預測 {predicted} ✓（答案 {true}）", "en": "predicted {predicted} ✓ (true {true})"},
    "mnist.prediction_wrong": {"zh": "預測 {predicted} ✗（答案 {true}）", "en": "predicted {predicted} ✗ (true {true})"},
    "mnist.qs.step_load": {"zh": "① 載入資料", "en": "① Load the data"},
    "mnist.qs.step_train": {"zh": "② 訓練 3 個 epoch", "en": "② Train for 3 epochs"},
    "mnist.qs.recipe": {
        "zh": "課程的配方，一個都不改：\n- 網路 784-256-64-10，層與層之間用 ReLU：H1 = relu(XW1 + b1)，H2 = relu(H1W2 + b2)，pred = H2W3 + b3\n- 目標函數：pred 和 one-hot 答案 Y 的平方誤差 Σ(pred − Y)²（MSE）\n- SGD，學習率 0.01，momentum 0.9；每批 512 張，跑 3 個 epoch\n- 輸入先標準化：減去 0.1307、除以 0.3081",
        "en": "The course's recipe, unchanged:\n- network 784-256-64-10 with ReLU between the layers: H1 = relu(XW1 + b1), H2 = relu(H1W2 + b2), pred = H2W3 + b3\n- objective: the squared error Σ(pred − Y)² against the one-hot answer Y (MSE)\n- SGD at learning rate 0.01 with momentum 0.9; batches of 512, 3 epochs\n- inputs normalised first: minus 0.1307, divided by 0.3081",
    },
    "mnist.qs.train": {"zh": "開始訓練", "en": "Train"},
    "mnist.qs.press_train": {
        "zh": "按「開始訓練」：進度條和 loss 曲線會即時更新，訓練完就看得到準確率和預測。",
        "en": "Press Train: the progress bar and the loss curve update live, and the accuracy and predictions appear when it is done.",
    },
    "mnist.qs.step_test": {"zh": "③ 測試準確率", "en": "③ Test accuracy"},
    "mnist.qs.accuracy_note": {
        "zh": "在網路從沒看過的 {n_test} 張測試圖上答對的比例。在真正的 MNIST 上，課程的配方大約是 0.886。",
        "en": "The share of the {n_test} test images, never seen in training, that the network gets right. On the real MNIST the course's recipe reaches about 0.886.",
    },
    "mnist.qs.fallback_steps": {
        "zh": "只有 {n_train} 張訓練圖時，3 個 epoch、每批 512 張總共只有 9 步，課程的配方學不會。所以這份小資料改用每批 {batch} 張、{epochs} 個 epoch（共 {steps} 步）：同樣的網路、同樣的損失和優化器，只是步數夠了。在真正的 MNIST 上，3 個 epoch 就是 354 步。",
        "en": "With only {n_train} training images, 3 epochs in batches of 512 are just 9 steps, too few for the course's recipe to learn. So on this small set it trains in batches of {batch} for {epochs} epochs ({steps} steps): the same network, loss and optimizer, just enough steps. On the real MNIST, 3 epochs are 354 steps.",
    },
    "mnist.qs.step_predict": {"zh": "④ 看六張測試圖的預測", "en": "④ Six test images and their predictions"},
    "mnist.qs.first": {"zh": "從第幾張測試圖開始", "en": "First test image"},
    "mnist.qs.other": {"zh": "換六張", "en": "Six others"},
    "mnist.qs.plot_image": {
        "zh": "就像課程裡的 plot_image：每張圖下面是網路的預測（機率最大的數字）和正確答案。",
        "en": "Like the course's plot_image: under each image, the network's prediction (the most probable digit) and the true answer.",
    },
    "mnist.qs.step_draw": {"zh": "⑤ 換你寫一個", "en": "⑤ Now write one yourself"},
    "mnist.qs.draw": {"zh": "寫一個數字給網路認 →", "en": "Draw a digit for the network →"},
    "mnist.qs.slow": {"zh": "想一步一步看懂？從 MNIST 資料集開始 →", "en": "Want it step by step? Start with the MNIST data →"},
    "mnist.data.try_test": {
        "zh": "切到測試集、每個數字看 20 張：有沒有連你都認不出來的？",
        "en": "Switch to the test set with 20 per digit: are there any even you cannot read?",
    },
    "mnist.data.try_one": {
        "zh": "每個數字只看 1 張，然後往下看平均圖：平均起來的 1 為什麼這麼細？",
        "en": "One per digit, then scroll to the mean images: why is the average 1 so thin?",
    },
    "mnist.data.split": {"zh": "資料集", "en": "Set"},
    "mnist.data.split_train": {"zh": "訓練集", "en": "training set"},
    "mnist.data.split_test": {"zh": "測試集", "en": "test set"},
    "mnist.data.per_digit": {"zh": "每個數字顯示幾張", "en": "Images per digit"},
    "mnist.data.counts": {"zh": "每個數字有幾張？", "en": "How many of each digit?"},
    "mnist.data.digit": {"zh": "數字", "en": "digit"},
    "mnist.data.count": {"zh": "張數", "en": "images"},
    "mnist.data.notes_line": {"zh": "講義說的「每個數字 7000 張」", "en": "the notes' \"7000 per digit\""},
    "mnist.data.counts_note": {
        "zh": "講義說每個數字大約 7000 張，那是平均：{total} 張分給 10 個數字。實際上最多的是 {most}（{most_n} 張），最少的是 {least}（{least_n} 張）。",
        "en": "The notes say about 7000 per digit; that is the average, {total} images over 10 digits. In fact the most common is {most} ({most_n} images) and the rarest is {least} ({least_n}).",
    },
    "mnist.data.counts_note_fallback": {
        "zh": "這是 scikit-learn 的手寫數字，不是 MNIST：一共 {total} 張，最多的是 {most}（{most_n} 張），最少的是 {least}（{least_n} 張）。講義說的「每個數字約 7000 張」是指 MNIST 的 70,000 張。",
        "en": "These are scikit-learn's digits, not MNIST: {total} images in all, the most common {most} ({most_n} images), the rarest {least} ({least_n}). The notes' \"about 7000 per digit\" is about MNIST's 70,000.",
    },
    "mnist.data.table": {"zh": "看數字表", "en": "Show the numbers"},
    "mnist.data.total": {"zh": "合計", "en": "total"},
    "mnist.data.samples": {"zh": "每個數字的前 {k} 張", "en": "The first {k} images of each digit"},
    "mnist.data.samples_note": {
        "zh": "每一列是一個數字（0 在最上面），依檔案裡的順序。每張 28×28 = 784 個像素，白色是筆跡；網路看到的就是這 784 個數。",
        "en": "One row per digit (0 at the top), in file order. Each image is 28×28 = 784 pixels, white is ink; those 784 numbers are all the network sees.",
    },
    "mnist.data.mean": {"zh": "平均圖", "en": "Mean images"},
    "mnist.data.mean_all": {"zh": "全部的平均", "en": "all digits"},
    "mnist.data.mean_note": {
        "zh": "把同一個數字的所有圖逐像素平均：筆畫穩定的地方（例如 0 的圈）很清楚，大家寫法不同的地方就糊掉了。如果只看「像不像平均圖」來分類，已經能猜對不少，但傾斜、粗細不同的字就會錯，這正是網路要學的。",
        "en": "Average every image of one digit pixel by pixel: where strokes agree (the ring of a 0) it is sharp, where people write differently it blurs. Classifying by \"closest to the mean image\" already gets many right, but slanted or thick digits go wrong, and that is what the network has to learn.",
    },
    "mnist.net.act_sigmoid": {"zh": "sigmoid", "en": "sigmoid"},
    "mnist.net.act_tanh": {"zh": "tanh", "en": "tanh"},
    "mnist.net.act_relu": {"zh": "ReLU", "en": "ReLU"},
    "mnist.net.try_relu": {
        "zh": "在層與層之間加上 ReLU：三層再也壓不成一層了。",
        "en": "Put a ReLU between the layers: the three no longer collapse into one.",
    },
    "mnist.net.try_deep": {
        "zh": "把網路加深到 20 層：sigmoid 網路的第一層還收得到多少梯度？",
        "en": "Make the net 20 layers deep: how much gradient does the sigmoid net's first layer still get?",
    },
    "mnist.net.try_shallow": {
        "zh": "只有 2 層：淺的網路裡 sigmoid 也還學得動。",
        "en": "Only 2 layers: in a shallow net the sigmoid still learns.",
    },
    "mnist.net.nutshell": {"zh": "(1) Nutshell：三層線性疊起來還是一層", "en": "(1) Nutshell: three linear layers are still one"},
    "mnist.net.nutshell_intro": {
        "zh": "講義把三個線性模型套在一起，每一層的輸出當作下一層的輸入。展開括號就會發現：整個式子仍然只是一個 W 和一個 b。",
        "en": "The notes nest three linear models, each layer's output feeding the next. Multiply out the brackets and the whole thing is still just one W and one b.",
    },
    "mnist.net.between": {"zh": "層與層之間放什麼", "en": "Between the layers"},
    "mnist.net.between_none": {"zh": "什麼都不放（純線性）", "en": "nothing (purely linear)"},
    "mnist.net.between_relu": {"zh": "ReLU", "en": "ReLU"},
    "mnist.net.between_sigmoid": {"zh": "sigmoid", "en": "sigmoid"},
    "mnist.net.between_tanh": {"zh": "tanh", "en": "tanh"},
    "mnist.net.seed": {"zh": "隨機權重的種子", "en": "Seed of the random weights"},
    "mnist.net.shapes": {
        "zh": "W1 是 {w1}、W2 是 {w2}、W3 是 {w3}（隨機初始化，和 PyTorch 的 nn.Linear 一樣）。乘起來的 W = W3W2W1 是 {w}，b 有 {b} 個數。",
        "en": "W1 is {w1}, W2 is {w2}, W3 is {w3} (random, initialised like PyTorch's nn.Linear). Their product W = W3W2W1 is {w}, and b has {b} numbers.",
    },
    "mnist.net.max_gap": {"zh": "三層和一層輸出的最大差距", "en": "Largest gap between three layers and one"},
    "mnist.net.same_answer": {"zh": "預測同一個數字的比例", "en": "Same predicted digit"},
    "mnist.net.identical": {
        "zh": "在 {n} 張測試圖的每一個輸出上，一層 W·X + b 和三層的結果都相同（差距小於 {tol}）：多疊的兩層什麼新東西都沒學到。",
        "en": "On every output for {n} test images, the single layer W·X + b gives what the three layers give (to within {tol}): the two extra layers add nothing new.",
    },
    "mnist.net.not_identical": {
        "zh": "層與層之間放了 {between}，三層不再等於任何一層：點離開了對角線。非線性就是讓網路變得比一個線性層更強的原因。",
        "en": "With {between} between the layers, the three layers are no longer one layer: the points leave the diagonal. The non-linearity is what makes the net more than one linear layer.",
    },
    "mnist.net.axis_three": {"zh": "三層網路的輸出", "en": "three-layer output"},
    "mnist.net.axis_one": {"zh": "合併成一層的輸出", "en": "collapsed one-layer output"},
    "mnist.net.output": {"zh": "輸出（數字）", "en": "output (digit)"},
    "mnist.net.image": {"zh": "第幾張圖", "en": "image"},
    "mnist.net.difference": {"zh": "差距", "en": "difference"},
    "mnist.net.nutshell_note": {
        "zh": "每個點是一張圖對一個數字的輸出：橫軸是三層算出來的，縱軸是合併後的一層算出來的。全部落在虛線（對角線）上，就代表兩者一模一樣。",
        "en": "Each point is one image's output for one digit: across, what the three layers compute; up, what the collapsed single layer computes. All on the dashed diagonal means they are the same.",
    },
    "mnist.net.activations": {"zh": "(2) 非線性因子：激活函數和它的導數", "en": "(2) The non-linear factor: activations and their derivatives"},
    "mnist.net.activations_intro": {
        "zh": "實線是函數 f(z)，虛線是導數 f′(z)。反向傳播時，每經過一層，梯度就要乘上一次 f′。",
        "en": "Solid: the function f(z); dashed: its derivative f′(z). In backpropagation the gradient is multiplied by f′ once per layer.",
    },
    "mnist.net.zmax": {"zh": "z 的範圍 ±", "en": "Range of z ±"},
    "mnist.net.activation": {"zh": "激活函數", "en": "activation"},
    "mnist.net.activations_note": {
        "zh": "sigmoid 的導數最大只有 1/4，而且 |z| 一大就幾乎是 0（飽和）；tanh 最大是 1，但也會飽和；ReLU 在 z > 0 時導數正好是 1，梯度原封不動地傳回去。",
        "en": "The sigmoid's derivative is at most 1/4 and almost 0 once |z| is large (saturation); tanh's peaks at 1 but saturates too; ReLU's is exactly 1 for z > 0, so the gradient passes back untouched.",
    },
    "mnist.net.vanishing": {"zh": "梯度離散（梯度消失）", "en": "Vanishing gradients (梯度離散)"},
    "mnist.net.vanishing_intro": {
        "zh": "把 {n} 張測試圖送進一個剛初始化的深網路，用課程的目標函數 Σ(pred − Y)² 算一次反向傳播，看每一層的權重拿到多大的梯度 ‖∂loss/∂W‖。每種網路用適合它的初始化（ReLU 用 He，sigmoid 和 tanh 用 Xavier），所以差別只來自導數。",
        "en": "Feed {n} test images through a freshly initialised deep net, backpropagate the course's objective Σ(pred − Y)² once, and see how large a gradient ‖∂loss/∂W‖ each layer's weights get. Each net starts with the initialisation made for it (He for ReLU, Xavier for sigmoid and tanh), so the difference comes from the derivatives alone.",
    },
    "mnist.net.depth": {"zh": "隱藏層數（深度）", "en": "Hidden layers (depth)"},
    "mnist.net.width": {"zh": "每層的神經元數", "en": "Units per layer"},
    "mnist.net.first_share": {
        "zh": "{name}：第一層梯度 ÷ 最後一層梯度",
        "en": "{name}: first layer's gradient ÷ last layer's",
    },
    "mnist.net.layer": {"zh": "第幾層（1 = 最靠近輸入）", "en": "layer (1 = next to the input)"},
    "mnist.net.grad_norm": {"zh": "梯度大小 ‖∂loss/∂W‖（對數刻度）", "en": "gradient size ‖∂loss/∂W‖ (log scale)"},
    "mnist.net.relative": {"zh": "相對最後一層", "en": "relative to the last layer"},
    "mnist.net.vanishing_note": {
        "zh": "深度 {depth} 時，sigmoid 網路的第一層只拿到最後一層梯度的 {sigmoid} 倍，ReLU 網路是 {relu} 倍。梯度小到這種程度，前面幾層幾乎學不到東西，這就是梯度離散；所以課程的網路用 ReLU：H1 = relu(XW1 + b1)…",
        "en": "At depth {depth} the sigmoid net's first layer gets {sigmoid} times the last layer's gradient, the ReLU net's {relu} times. With gradients that small the early layers barely learn: that is vanishing gradients, and why the course's network uses ReLU: H1 = relu(XW1 + b1)…",
    },
    "mnist.train.describe": {
        "zh": "目前的設定：{sizes}，{activation}，{loss}，{optimizer} 學習率 {lr}，每批 {batch} 張，{epochs} 個 epoch",
        "en": "Current settings: {sizes}, {activation}, {loss}, {optimizer} at learning rate {lr}, batches of {batch}, {epochs} epochs",
    },
    "mnist.train.loss_mse": {"zh": "MSE（課程：對 one-hot 的平方誤差）", "en": "MSE (the course's: squared error against one-hot)"},
    "mnist.train.loss_cross_entropy": {"zh": "交叉熵（cross-entropy）", "en": "cross-entropy"},
    "mnist.train.opt_sgd": {"zh": "SGD（課程）", "en": "SGD (the course's)"},
    "mnist.train.opt_adam": {"zh": "Adam", "en": "Adam"},
    "mnist.train.opt_rmsprop": {"zh": "RMSprop", "en": "RMSprop"},
    "mnist.train.predicted": {"zh": "網路預測", "en": "predicted"},
    "mnist.train.true": {"zh": "正確答案", "en": "true digit"},
    "mnist.train.count": {"zh": "張數", "en": "images"},
    "mnist.train.share": {"zh": "占這個數字的比例", "en": "share of that digit"},
    "mnist.train.try_sigmoid": {
        "zh": "課程的配方，但把 ReLU 換成 sigmoid：3 個 epoch 後準確率差多少？",
        "en": "The course's recipe with sigmoid instead of ReLU: how much accuracy is lost after 3 epochs?",
    },
    "mnist.train.try_adam": {
        "zh": "換成 Adam + 交叉熵、學習率 0.001：loss 降得快多少？",
        "en": "Adam with cross-entropy at learning rate 0.001: how much faster does the loss fall?",
    },
    "mnist.train.try_big_lr": {
        "zh": "學習率 3：看 loss 怎麼爆掉。",
        "en": "Learning rate 3: watch the loss blow up.",
    },
    "mnist.train.try_h3": {
        "zh": "講義的 H3 = relu(H2W3 + b3)：輸出也加上 ReLU，和課程的程式碼比比看。",
        "en": "The notes' H3 = relu(H2W3 + b3): ReLU on the output too; compare with the course's code.",
    },
    "mnist.train.settings": {"zh": "設定", "en": "Settings"},
    "mnist.train.course": {"zh": "恢復課程的配方", "en": "The course's recipe"},
    "mnist.train.best": {"zh": "載入最佳設定（MNIST 上 ≥ 98%）", "en": "Load the best preset (≥ 98% on MNIST)"},
    "mnist.train.network": {"zh": "**網路**", "en": "**Network**"},
    "mnist.train.layers": {"zh": "隱藏層數", "en": "Hidden layers"},
    "mnist.train.hidden": {"zh": "第 {i} 個隱藏層的神經元數", "en": "Units in hidden layer {i}"},
    "mnist.train.activation": {"zh": "激活函數（層與層之間）", "en": "Activation (between layers)"},
    "mnist.train.final": {"zh": "輸出層的激活函數", "en": "Activation on the output"},
    "mnist.train.final_none": {"zh": "不加（課程的程式碼）", "en": "none (the course's code)"},
    "mnist.train.objective": {"zh": "**目標函數與資料**", "en": "**Objective and data**"},
    "mnist.train.loss": {"zh": "損失函數", "en": "Loss"},
    "mnist.train.batch": {"zh": "每批幾張（batch size）", "en": "Batch size"},
    "mnist.train.epochs": {"zh": "epoch 數", "en": "Epochs"},
    "mnist.train.seed": {"zh": "隨機種子", "en": "Random seed"},
    "mnist.train.optimiser": {"zh": "**優化器**", "en": "**Optimiser**"},
    "mnist.train.optimizer": {"zh": "優化器", "en": "Optimizer"},
    "mnist.train.lr": {"zh": "學習率", "en": "Learning rate"},
    "mnist.train.momentum": {"zh": "momentum", "en": "Momentum"},
    "mnist.train.momentum_help": {"zh": "只有 SGD 會用到。", "en": "Used by SGD only."},
    "mnist.train.schedule": {"zh": "學習率排程", "en": "Learning-rate schedule"},
    "mnist.train.schedule_none": {"zh": "固定（課程）", "en": "constant (the course's)"},
    "mnist.train.schedule_onecycle": {"zh": "one-cycle：先升後降", "en": "one-cycle: up, then down"},
    "mnist.train.train": {"zh": "開始訓練", "en": "Train"},
    "mnist.train.press_train": {
        "zh": "選好設定後按「開始訓練」。全班用同一組設定時只會訓練一次，大家共用結果。",
        "en": "Choose the settings and press Train. When the class uses the same settings, the model is trained once and shared.",
    },
    "mnist.train.results": {"zh": "結果", "en": "Results"},
    "mnist.train.stale": {
        "zh": "下面是你上一次訓練的模型（{trained}）。設定已經改了：按「開始訓練」看新設定的結果。",
        "en": "Below is the model you trained last ({trained}). The settings have changed since: press Train to see the new ones.",
    },
    "mnist.train.other_data": {
        "zh": "這個模型是在另一份資料上訓練的（資料後來換過了），下面的數字是它在現在這份測試集上的表現；再訓練一次會更準。",
        "en": "This model was trained on other data (the data has changed since); below is how it does on the current test set. Train again for a fair picture.",
    },
    "mnist.train.wrong": {"zh": "認錯的測試圖", "en": "Test images got wrong"},
    "mnist.train.confusion": {"zh": "**混淆矩陣**", "en": "**Confusion matrix**"},
    "mnist.train.confusion_note": {
        "zh": "每一列是正確答案、每一行是網路的預測；對角線是答對的。對角線外的大格子就是網路最常搞混的兩個數字（例如 4 和 9）。",
        "en": "Rows are the true digit, columns the network's prediction; the diagonal is right. Large cells off the diagonal are the pairs it confuses most (4 and 9, for example).",
    },
    "mnist.train.mistakes": {
        "zh": "**認錯的圖**（錯了 {wrong} 張，這裡是網路最有把握卻答錯的 {shown} 張）",
        "en": "**The mistakes** ({wrong} in all; here the {shown} the network was most sure about)",
    },
    "mnist.train.broken_model": {
        "zh": "這個模型的權重已經變成 NaN，它的「預測」沒有意義，所以這裡不畫混淆矩陣、認錯的圖和權重。把學習率調小再訓練一次。",
        "en": "This model's weights have turned into NaN, so its \"predictions\" mean nothing: no confusion matrix, mistakes or weights are drawn. Lower the learning rate and train again.",
    },
    "mnist.train.no_mistakes": {"zh": "測試集全部答對！", "en": "Every test image is right!"},
    "mnist.train.mistake": {"zh": "答案 {true} → 預測 {predicted}（{confidence}）", "en": "true {true} → {predicted} ({confidence})"},
    "mnist.train.weights": {
        "zh": "**第一層的權重**（{units} 個神經元中的前 {shown} 個，每個都是 784 個權重排成 28×28）",
        "en": "**The first layer's weights** (the first {shown} of {units} units, each 784 weights laid out as 28×28)",
    },
    "mnist.train.weights_note": {
        "zh": "紅色是正的權重（那裡有筆跡會讓這個神經元更活躍），藍色是負的，白色接近 0。每個神經元都從隨機雜訊開始；短短幾個 epoch 的 SGD 之後大多還像雜訊，訓練得越久、越有效（試試最佳設定），就越多神經元長出筆畫和墨塊的形狀。",
        "en": "Red is a positive weight (ink there excites this unit), blue negative, white near 0. Every unit starts as random noise; after a few epochs of SGD most still look like it, and the longer and better it trains (try the best preset), the more of them grow strokes and blobs of ink.",
    },
    "mnist.train.download_model": {"zh": "下載模型（.pt）", "en": "Download the model (.pt)"},
    "mnist.train.download_history": {"zh": "下載 loss 紀錄（CSV）", "en": "Download the loss history (CSV)"},
    "mnist.train.download_note": {
        "zh": "模型檔是 state_dict 和網路的形狀；用 lessons.mlp.model_from_bytes 讀回來（只用 torch.load(weights_only=True)）。",
        "en": "The model file holds the state_dict and the network's shape; read it back with lessons.mlp.model_from_bytes (torch.load(weights_only=True) only).",
    },
    # --- end mnist ---
    # --- draw: draw (lesson 6) ---
    "draw.try_slant": {
        "zh": "寫一個**斜斜的 2** 或筆畫怪怪的 7：課程最後一句說，真正的手寫會傾斜、模糊、筆畫奇特。網路從哪裡開始猶豫？",
        "en": "Write a **slanted 2** or an oddly stroked 7. The course ends on exactly this: real handwriting is slanted, blurry, oddly stroked. Where does the network start to doubt?",
    },
    "draw.try_small": {
        "zh": "在角落寫一個**很小的 7**：預處理會裁切、放大、置中，所以它讀起來跟寫在中間的大 7 一樣。",
        "en": "Write a **tiny 7** in a corner. The preparation crops, scales and centres it, so it reads like a big 7 in the middle.",
    },
    "draw.try_thin": {
        "zh": "用**很細的筆**（5 像素）寫一個 4：縮到 20 像素後，筆畫變成淡淡的灰色。網路還認得嗎？",
        "en": "Write a 4 with a **very thin pen** (5 px). Shrunk to 20 px, the strokes turn faint grey. Can the network still read it?",
    },
    "draw.try_thick": {
        "zh": "用**很粗的筆**（50 像素）寫一個 8：圈圈會被塗滿。網路現在看到的是哪個數字？",
        "en": "Write an 8 with a **very fat pen** (50 px). The loops fill in. Which digit does the network see now?",
    },
    "draw.training": {
        "zh": "第一次使用：正在用課程的配方訓練網路（只需幾秒）… {percent}%",
        "en": "First use: training the network with the course's recipe (a few seconds)… {percent}%",
    },
    "draw.model_own": {
        "zh": "正在使用你在「5c 訓練 MNIST」訓練的網路（測試準確率 {accuracy}）。",
        "en": "Using the network you trained on “5c Training on MNIST” (test accuracy {accuracy}).",
    },
    "draw.model_course": {
        "zh": "正在使用課程配方的網路（784-256-64-10、ReLU、MSE、SGD，批次 {batch}、{epochs} 個 epoch；測試準確率 {accuracy}，訓練了 {seconds} 秒）。在「5c 訓練 MNIST」訓練你自己的網路，這裡就會改用它。",
        "en": "Using the course-recipe network (784-256-64-10, ReLU, MSE, SGD, batches of {batch}, {epochs} epochs; test accuracy {accuracy}, trained in {seconds} s). Train your own on “5c Training on MNIST” and this page uses it instead.",
    },
    "draw.fallback": {
        "zh": "沒有找到真正的 MNIST，網路只學了 scikit-learn 的 1,797 張 8×8 小數字（放大到 28×28），所以會認錯得比較多。",
        "en": "Real MNIST was not found, so the network learned only from scikit-learn's 1,797 small 8×8 digits (enlarged to 28×28): expect more mistakes.",
    },
    "draw.canvas_title": {"zh": "你寫的", "en": "You write"},
    "draw.stroke": {"zh": "筆的粗細（像素）", "en": "Pen width (px)"},
    "draw.clear": {"zh": "清除", "en": "Clear"},
    "draw.sees_title": {"zh": "網路看到的", "en": "The network sees"},
    "draw.sees_caption": {
        "zh": "28 × 28 = 784 個數字：白色 = 1（墨水），黑色 = 0。網路只看得到這個，不是你的原圖。",
        "en": "28 × 28 = 784 numbers: white = 1 (ink), black = 0. This, not your drawing, is all the network gets.",
    },
    "draw.empty": {
        "zh": "在左邊的白色畫布上寫一個數字（0–9）。",
        "en": "Draw a digit (0–9) on the white canvas on the left.",
    },
    "draw.reads_title": {"zh": "網路讀到的", "en": "The network reads"},
    "draw.reads_empty": {
        "zh": "寫好之後，這裡會出現網路的答案和 0–9 每個數字的機率。",
        "en": "Once you draw, the network's answer and its probability for each digit 0–9 appear here.",
    },
    "draw.reads": {
        "zh": "網路認為這是 **{digit}**（把握 {percent}）。",
        "en": "The network reads **{digit}** ({percent} sure).",
    },
    "draw.unsure": {
        "zh": "網路不太確定：最可能是 {digit}（{percent}），其次是 {runner_up}（{runner_percent}）。試著寫得更像 MNIST：大一點、筆畫清楚、不要太潦草。",
        "en": "The network is unsure: most likely {digit} ({percent}), then {runner_up} ({runner_percent}). Try writing more like MNIST: large, clear strokes, not too scribbly.",
    },
    "draw.axis_digit": {"zh": "數字", "en": "Digit"},
    "draw.axis_probability": {"zh": "機率", "en": "Probability"},
    "draw.legend_answer": {"zh": "網路的答案", "en": "The network's answer"},
    "draw.legend_other": {"zh": "其他數字", "en": "Other digits"},
    "draw.how_title": {"zh": "你的字怎麼變成 28×28", "en": "How your drawing becomes 28×28"},
    "draw.how": {
        "zh": "網路只見過 MNIST 的數字，而 MNIST 是這樣做出來的，所以你的字也要照做一遍：\n\n1. **墨水**：和背景不同的地方就是墨水（白底黑字、黑底白字、透明底彩色字都行）。\n2. **裁切**：只留下有墨水的最小方框。\n3. **縮放**：長邊縮到 20 像素、保持長寬比；每個像素的灰階 = 筆畫蓋住它多少（反鋸齒）。\n4. **置中**：放進 28×28，讓墨水的重心落在正中間 (14, 14)。\n\n所以字寫大寫小、寫在哪裡都沒關係。",
        "en": "The network has only ever seen MNIST digits, and this is how MNIST was made, so your drawing goes through the same steps:\n\n1. **Ink**: whatever differs from the background (dark on light, light on dark, colour on transparent).\n2. **Crop**: keep the smallest box around the ink.\n3. **Scale**: the longer side to 20 px, keeping the aspect ratio; each pixel's grey level is how much of it the strokes cover (anti-aliasing).\n4. **Centre**: put it into 28×28 so the ink's centre of mass lands at the middle, (14, 14).\n\nThat is why it does not matter how big you write or where.",
    },
    "draw.step_ink": {"zh": "1 墨水（{height}×{width}）", "en": "1 Ink ({height}×{width})"},
    "draw.step_cropped": {"zh": "2 裁切（{height}×{width}）", "en": "2 Cropped ({height}×{width})"},
    "draw.step_scaled": {"zh": "3 縮放（{height}×{width}）", "en": "3 Scaled ({height}×{width})"},
    "draw.step_placed": {"zh": "4 置中（{height}×{width}）", "en": "4 Centred ({height}×{width})"},
    "draw.limits": {
        "zh": "**誠實的限制**：這個網路只是把 784 個數字一層層相乘相加，它沒有「看懂」數字的形狀。寫得越不像 MNIST（太潦草、太斜、不是數字），它就越會猜錯，有時還很有把握地猜錯。",
        "en": "**Honest limits:** this network only multiplies and adds 784 numbers layer by layer; it has no notion of a digit's shape. The less your writing looks like MNIST (scribbly, slanted, not a digit at all), the more it guesses wrong, sometimes confidently.",
    },
    # --- end draw ---
    # --- robustness: robustness (classroom) ---
    # --- end robustness ---
}

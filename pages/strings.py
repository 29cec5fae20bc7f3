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
    "app.coming": {
        "zh": "這一課正在準備中，很快就會上線。",
        "en": "This lesson is being prepared and will be here soon.",
    },
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
    "home.map": {"zh": "課程地圖", "en": "Course map"},
    "home.open": {"zh": "打開這一課 →", "en": "Open this lesson →"},
    "home.teacher": {
        "zh": "給老師：每一頁的設定都記在網址裡，複製網址就能把同一個設定發給全班；語言切換也在網址裡。",
        "en": "For teachers: every page keeps its settings in the URL, so copying the address hands the exact setup to the class; the language is in the URL too.",
    },
    # --- descent: descent (lesson 1) ---
    # --- end descent ---
    # --- regression: noise and regression (lessons 2, 3) ---
    # --- end regression ---
    # --- classification: classification (lesson 4) ---
    # --- end classification ---
    # --- mnist: mnist pages (quick start, lesson 5) ---
    # --- end mnist ---
    # --- draw: draw (lesson 6) ---
    # --- end draw ---
    # --- robustness: robustness (classroom) ---
    # --- end robustness ---
}
